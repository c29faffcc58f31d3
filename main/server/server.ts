// Browser mode: the same handler table over HTTP + WebSocket on 127.0.0.1 with a per-start token.
// Every request passes checkRequest (peer, Host, Origin, token) before any routing happens.
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { WebSocketServer, type WebSocket } from 'ws'
import type { EventBus } from '../api/events'
import type { FileAccess } from '../api/files'
import { callApi, type HandlerTable } from '../api/handlers'
import * as P from './protocol'
import { assertLoopbackBind, checkRequest, LOOPBACK_HOST } from './security'
import { contentSecurityPolicy, serveStatic } from './static-files'

export interface ServerOptions {
  handlers: HandlerTable
  bus: EventBus
  files: FileAccess
  /** Built renderer folder; requests for pages 404 when absent. */
  distDir: string
  /** 0 = a random free port. */
  port?: number
  host?: string
  /** Fixed token (tests); default 32 random bytes, hex. */
  token?: string
  log?: (line: string) => void
}

export interface RunningServer {
  /** The address actually bound (always 127.0.0.1). */
  address: string
  port: number
  token: string
  origin: string
  /** The URL to open: origin + `/?token=`. */
  url: string
  close(): Promise<void>
}

const BASE_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body === undefined ? null : body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
  res.end(text)
}

function errorStatus(err: unknown): number {
  const e = err as { name?: string; status?: number }
  if (e?.name === 'ApiError' && typeof e.status === 'number') return e.status
  if (e?.name === 'DataError') return 400
  if (e?.name === 'AbortError') return 409
  return 500
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let n = 0
  for await (const chunk of req) {
    n += (chunk as Buffer).length
    if (n > limit)
      throw Object.assign(new Error(`request body exceeds ${limit} bytes`), { name: 'ApiError', status: 413 })
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

/** POST /api/<name>: a JSON array of arguments to one handler; the reply is its JSON result. */
async function serveApi(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  handlers: HandlerTable,
  log: (line: string) => void,
): Promise<void> {
  if (req.method !== 'POST') return sendJson(res, 405, { error: 'use POST' })
  if (!(req.headers['content-type'] ?? '').startsWith('application/json'))
    return sendJson(res, 415, { error: 'Content-Type must be application/json' })
  const name = url.pathname.slice(P.API_PREFIX.length)
  try {
    const raw = await readBody(req, P.MAX_JSON_BODY)
    let args: unknown
    try {
      args = raw.length ? JSON.parse(raw.toString('utf8')) : []
    } catch {
      return sendJson(res, 400, { error: 'request body is not valid JSON' })
    }
    sendJson(res, 200, await callApi(handlers, name, args))
  } catch (err) {
    const status = errorStatus(err)
    if (status === 500) log(`[serve] ${name} failed: ${(err as Error)?.stack ?? err}`)
    sendJson(res, status, { error: err instanceof Error ? err.message : String(err) })
  }
}

/** POST /upload?name=: a file streamed into the upload folder, refused early when it declares too much. */
async function serveUpload(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  files: FileAccess,
): Promise<void> {
  if (req.method !== 'POST') return sendJson(res, 405, { error: 'use POST' })
  const name = url.searchParams.get(P.UPLOAD_NAME_QUERY)
  if (!name) return sendJson(res, 400, { error: `query parameter '${P.UPLOAD_NAME_QUERY}' is required` })
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > files.uploadLimit) {
    res.setHeader('connection', 'close')
    return sendJson(res, 413, { error: `upload exceeds the ${files.uploadLimit}-byte limit` })
  }
  try {
    sendJson(res, 200, await files.saveUpload(name, req))
  } catch (err) {
    const status = /exceeds/.test(String((err as Error)?.message)) ? 413 : errorStatus(err)
    res.setHeader('connection', 'close')
    sendJson(res, status, { error: err instanceof Error ? err.message : String(err) })
  }
}

/**
 * The one-way event channel: WebSocket upgrades on EVENTS_PATH that pass `check` get every bus event;
 * any other upgrade is answered with its status and closed.
 */
function acceptEvents(
  server: Server,
  bus: EventBus,
  check: (req: IncomingMessage, url: URL) => ReturnType<typeof checkRequest>,
  log: (line: string) => void,
): { close(): void } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 })
  const sockets = new Set<WebSocket>()
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', `http://${LOOPBACK_HOST}`)
    const verdict = url.pathname === P.EVENTS_PATH ? check(req, url) : undefined
    if (!verdict || !verdict.ok) {
      const status = verdict ? verdict.status : 404
      log(
        `[serve] rejected WebSocket ${url.pathname}: ${verdict && !verdict.ok ? verdict.reason : 'unknown path'}`,
      )
      socket.end(
        `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Not Found'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`,
      )
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws)
      ws.on('close', () => sockets.delete(ws))
      // The channel is one-way; a client that talks is ignored rather than trusted.
      ws.on('message', () => {})
    })
  })
  const unsubscribe = bus.on((event) => {
    const text = JSON.stringify(event)
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text)
  })
  return {
    close: () => {
      unsubscribe()
      for (const ws of sockets) ws.terminate()
      wss.close()
    },
  }
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const host = o.host ?? LOOPBACK_HOST
  assertLoopbackBind(host)
  const token = o.token ?? randomBytes(32).toString('hex')
  const distDir = path.resolve(o.distDir)
  const log = o.log ?? (() => {})
  let port = 0

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    for (const [k, val] of Object.entries(BASE_HEADERS)) res.setHeader(k, val)
    const url = new URL(req.url ?? '/', `http://${LOOPBACK_HOST}:${port}`)
    const method = req.method ?? 'GET'
    const isPage = method === 'GET' && url.pathname === '/'
    const verdict = checkRequest(req, url, port, token, isPage)
    if (!verdict.ok) {
      log(`[serve] rejected ${method} ${url.pathname}: ${verdict.reason}`)
      // Refused before reading the body: an unauthorised upload never reaches the disk.
      res.setHeader('connection', 'close')
      sendJson(res, verdict.status, { error: verdict.status === 401 ? 'token required' : 'forbidden' })
      return
    }
    if (url.pathname.startsWith(P.API_PREFIX)) return serveApi(req, res, url, o.handlers, log)
    if (url.pathname === P.UPLOAD_PATH) return serveUpload(req, res, url, o.files)
    if (method !== 'GET' && method !== 'HEAD') return sendJson(res, 405, { error: 'method not allowed' })
    if (isPage && url.searchParams.has(P.TOKEN_QUERY)) {
      // Trade the query token for a cookie, and drop it from the address bar and history.
      res.writeHead(302, {
        'set-cookie': `${P.tokenCookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        location: '/',
        'cache-control': 'no-store',
      })
      res.end()
      return
    }
    res.setHeader('content-security-policy', contentSecurityPolicy(port))
    serveStatic(distDir, url.pathname, res, method === 'HEAD')
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      log(`[serve] internal error: ${err?.stack ?? err}`)
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' })
      else res.destroy()
    })
  })

  const events = acceptEvents(server, o.bus, (req, url) => checkRequest(req, url, port, token, true), log)

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(o.port ?? 0, host, () => resolve())
  })
  const addr = server.address() as AddressInfo
  if (addr.address !== LOOPBACK_HOST) {
    server.close()
    throw new Error(`server bound to ${addr.address}, expected ${LOOPBACK_HOST}`)
  }
  port = addr.port
  const origin = `http://${LOOPBACK_HOST}:${port}`
  return {
    address: addr.address,
    port,
    token,
    origin,
    url: `${origin}/?${P.TOKEN_QUERY}=${token}`,
    close: async () => {
      events.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
