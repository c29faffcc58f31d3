// Picks the transport once at startup: Electron's preload bridge when present, otherwise the
// browser-mode HTTP/WebSocket client. Stores import `api` from here and nothing else.
import type { WorkbenchApi } from '../../../preload/api'
import { createHttpClient } from './http-client'

// Names mirrored from main/server/protocol.ts (kept as literals: that module belongs to the Node side).
export const TOKEN_HEADER = 'x-workbench-token'
export const TOKEN_QUERY = 'token'

/**
 * Normally empty: the server trades the printed `?token=` URL for an HttpOnly same-site cookie that
 * fetch() and the WebSocket carry by themselves. A token left in the URL (e.g. a page served from
 * elsewhere) is sent as the header instead. Never persisted by the page.
 */
function readToken(): string {
  const fromQuery = new URLSearchParams(location.search).get(TOKEN_QUERY)
  const fromHash = new URLSearchParams(location.hash.replace(/^#/, '')).get(TOKEN_QUERY)
  return fromQuery ?? fromHash ?? ''
}

function pickApi(): WorkbenchApi {
  if (window.api) return window.api
  const baseUrl = location.origin + location.pathname.replace(/\/[^/]*$/, '')
  return createHttpClient({ baseUrl, token: readToken(), tokenHeader: TOKEN_HEADER, tokenQuery: TOKEN_QUERY })
}

export const api: WorkbenchApi = pickApi()
export const isElectron = Boolean(window.api)

/** Error text for inline display. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}
