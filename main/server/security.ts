// Browser-mode request checks: loopback-only peers, Host / Origin pinned to our own address (DNS
// rebinding), and the per-start token compared in constant time.
import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { TOKEN_HEADER, TOKEN_QUERY, tokenCookieName } from './protocol'

/** The only address the server will bind to. */
export const LOOPBACK_HOST = '127.0.0.1'

/** True for 127.0.0.0/8, ::1 and IPv4-mapped 127.x addresses. */
export function isLoopbackAddress(addr: string | undefined): boolean {
  if (!addr) return false
  const a = addr.toLowerCase()
  if (a === '::1' || a === '0:0:0:0:0:0:0:1') return true
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(v4)
  if (!m) return false
  const parts = m.slice(1).map(Number)
  return parts.every((p) => p <= 255) && parts[0] === 127
}

/** Refuses any bind address but loopback; '0.0.0.0', '::', LAN IPs and host names are errors. */
export function assertLoopbackBind(host: string): void {
  if (host !== LOOPBACK_HOST) {
    throw new Error(`refusing to listen on '${host}': browser mode binds to ${LOOPBACK_HOST} only`)
  }
}

export function allowedHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`]
}

/** Host header must name us exactly: a rebinding attacker's page sends its own domain here. */
export function isAllowedHost(host: string | undefined, port: number): boolean {
  return !!host && allowedHosts(port).includes(host.toLowerCase())
}

/** Origin, when a browser sends one, must be our own page. */
export function isAllowedOrigin(origin: string | undefined, port: number): boolean {
  if (origin === undefined) return true
  return allowedHosts(port).some((h) => origin.toLowerCase() === `http://${h}`)
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=')
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim()
  }
  return out
}

/** The token a request carries: header, then cookie, then (if allowed) the query string. */
export function requestToken(
  req: IncomingMessage,
  url: URL,
  port: number,
  allowQuery: boolean,
): string | undefined {
  const h = req.headers[TOKEN_HEADER]
  if (typeof h === 'string' && h) return h
  const c = parseCookies(req.headers.cookie)[tokenCookieName(port)]
  if (c) return c
  if (allowQuery) return url.searchParams.get(TOKEN_QUERY) ?? undefined
  return undefined
}

export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (!given) return false
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

export type Verdict = { ok: true } | { ok: false; status: 401 | 403; reason: string }

/** All checks for one HTTP request or WebSocket upgrade, in order: peer, Host, Origin, token. */
export function checkRequest(
  req: IncomingMessage,
  url: URL,
  port: number,
  token: string,
  allowQuery: boolean,
): Verdict {
  if (!isLoopbackAddress(req.socket.remoteAddress))
    return { ok: false, status: 403, reason: 'remote address' }
  if (!isAllowedHost(req.headers.host, port)) return { ok: false, status: 403, reason: 'bad Host header' }
  if (!isAllowedOrigin(req.headers.origin, port))
    return { ok: false, status: 403, reason: 'bad Origin header' }
  const given = requestToken(req, url, port, allowQuery)
  if (!given) return { ok: false, status: 401, reason: 'missing token' }
  if (!tokenMatches(given, token)) return { ok: false, status: 403, reason: 'wrong token' }
  return { ok: true }
}
