// One API call over HTTP to a running browser-mode server, as the renderer makes it (token header,
// JSON array of arguments). A non-2xx reply throws "<status> <error> (<method>)".
import { TOKEN_HEADER } from '../../../main/server/protocol'

export async function apiCall<T>(
  srv: { origin: string; token: string },
  method: string,
  ...args: unknown[]
): Promise<T> {
  const res = await fetch(`${srv.origin}/api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [TOKEN_HEADER]: srv.token },
    body: JSON.stringify(args),
  })
  const body = (await res.json()) as { error?: string }
  if (!res.ok) throw new Error(`${res.status} ${body.error} (${method})`)
  return body as T
}
