// Browser-mode wire protocol, as plain constants the renderer's HTTP client mirrors.
//
// Auth: the server prints `http://127.0.0.1:PORT/?token=T`. Loading that URL sets an HttpOnly,
// SameSite=Strict cookie (tokenCookieName(port)) and redirects to `/`, so the page's same-origin fetch() and
// WebSocket calls carry the token automatically. Non-browser clients (tests, CLI) send TOKEN_HEADER
// instead; a WebSocket may also pass `?token=`.
//
// Calls: `POST /api/<method>` with a JSON array of arguments (Content-Type: application/json) returns
// 200 + the JSON result (`null` for void), or 4xx/5xx + `{ "error": "message" }`.
// Uploads: `POST /upload?name=<file name>` with the raw bytes as body returns a FileRef.
// Events: WebSocket `/events` sends one AppEvent JSON object per message.

export const TOKEN_QUERY = 'token'
export const TOKEN_HEADER = 'x-workbench-token'
/** Cookie name prefix; the full name ends with the port, since browsers share cookies across ports. */
export const TOKEN_COOKIE = 'workbench_token'
export const tokenCookieName = (port: number): string => `${TOKEN_COOKIE}_${port}`
export const API_PREFIX = '/api/'
export const UPLOAD_PATH = '/upload'
export const UPLOAD_NAME_QUERY = 'name'
export const EVENTS_PATH = '/events'
/** Default upload size cap in MiB (`serve --upload-limit-mb N`). */
export const DEFAULT_UPLOAD_LIMIT_MB = 2048
/** Cap for JSON call bodies. */
export const MAX_JSON_BODY = 16 * 1024 * 1024

export interface ErrorBody {
  error: string
}
