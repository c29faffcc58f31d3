// Browser-mode transport: the WorkbenchApi contract over HTTP (POST /api/<method>, JSON array of
// arguments) and a WebSocket (/events) for AppEvents. Same type as Electron's window.api, so stores
// never know which host they run in. Auth rides on the server's same-site cookie (see ./index.ts).
import type { AppEvent, FileRef, WorkbenchApi } from '../../../preload/api'

export interface HttpClientOptions {
  /** Origin + base path of the server, e.g. http://127.0.0.1:5173 (no trailing slash). */
  baseUrl: string
  token: string
  tokenHeader: string
  tokenQuery: string
}

/** Thrown for a non-2xx answer; message is the server's error text so views can show it inline. */
export class ApiError extends Error {
  constructor(
    readonly method: string,
    readonly status: number,
    message: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

async function readError(method: string, res: Response): Promise<ApiError> {
  const text = await res.text()
  let message = text || res.statusText
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown }
    const m = body.error ?? body.message
    if (typeof m === 'string') message = m
    else if (m && typeof m === 'object' && typeof (m as { message?: unknown }).message === 'string')
      message = (m as { message: string }).message
  } catch {
    // plain-text error body: keep it as is
  }
  return new ApiError(method, res.status, message)
}

async function readJson(res: Response): Promise<unknown> {
  const text = await res.text()
  if (!text) return undefined
  const body = JSON.parse(text) as unknown
  // Accept either the bare result or an envelope { result } (whichever the server chose).
  if (
    body &&
    typeof body === 'object' &&
    !Array.isArray(body) &&
    'result' in body &&
    Object.keys(body).length === 1
  )
    return (body as { result: unknown }).result
  return body
}

type Listener = (event: AppEvent) => void

/** One WebSocket shared by all listeners; reconnects with backoff while anyone listens. */
function createEventHub(opts: HttpClientOptions): (listener: Listener) => () => void {
  const listeners = new Set<Listener>()
  let socket: WebSocket | null = null
  let retry = 0
  let timer: ReturnType<typeof setTimeout> | null = null

  const connect = (): void => {
    const url = new URL(opts.baseUrl + '/events')
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
    if (opts.token) url.searchParams.set(opts.tokenQuery, opts.token)
    const ws = new WebSocket(url)
    socket = ws
    ws.onopen = () => (retry = 0)
    ws.onmessage = (msg) => {
      let event: AppEvent
      try {
        event = JSON.parse(String(msg.data)) as AppEvent
      } catch {
        return
      }
      for (const l of [...listeners]) l(event)
    }
    ws.onclose = () => {
      socket = null
      if (listeners.size === 0) return
      retry = Math.min(retry + 1, 6)
      timer = setTimeout(connect, 250 * 2 ** retry)
    }
  }

  return (listener) => {
    listeners.add(listener)
    if (!socket && !timer) connect()
    return () => {
      listeners.delete(listener)
      if (listeners.size > 0) return
      if (timer) clearTimeout(timer)
      timer = null
      socket?.close()
      socket = null
    }
  }
}

export function createHttpClient(opts: HttpClientOptions): WorkbenchApi {
  const headers: Record<string, string> = opts.token ? { [opts.tokenHeader]: opts.token } : {}

  const call = async (method: string, args: unknown[]): Promise<unknown> => {
    const res = await fetch(`${opts.baseUrl}/api/${method}`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(args),
    })
    if (!res.ok) throw await readError(method, res)
    return readJson(res)
  }

  const uploadFile = async (name: string, bytes: ArrayBuffer): Promise<FileRef> => {
    const res = await fetch(`${opts.baseUrl}/upload?name=${encodeURIComponent(name)}`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/octet-stream' },
      body: bytes,
    })
    if (!res.ok) throw await readError('uploadFile', res)
    return (await readJson(res)) as FileRef
  }

  const onEvent = createEventHub(opts)
  const special: Partial<WorkbenchApi> = {
    uploadFile,
    onEvent,
    // No native dialogs in a browser: views use <input type=file> + uploadFile instead.
    pickFile: async () => null,
    pickBackboneFolder: async () => null,
  }

  // Every other method is a plain POST; a Proxy keeps this file free of 30 one-line wrappers.
  return new Proxy(special as WorkbenchApi, {
    get(target, prop) {
      if (typeof prop !== 'string') return undefined
      if (prop in target) return target[prop as keyof WorkbenchApi]
      if (prop === 'then') return undefined // not a thenable
      return (...args: unknown[]) => call(prop, args)
    },
  })
}
