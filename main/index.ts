// Electron main process: app lifecycle, one secure window, IPC wiring. The only Electron-specific
// module in main/ (with preload/); everything else is shared with browser mode and the CLI.
// Security: contextIsolation + sandbox, no Node in the page, CSP on every response, navigation and new
// windows blocked, every IPC sender checked, every argument validated by the handler table.
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createApiApp, type ApiApp } from './api/app'
import { callApi } from './api/handlers'
import { API_METHODS } from './api/methods'
import { defaultDbPath } from './api/services'
import { resolveStaticPath } from './server/static-files'
import { createRunManager } from './worker/run-manager'

// The subset of Electron's API used here, typed locally: the electron package is an optional
// dependency and may be absent where this file is type-checked.
interface WebContents {
  id: number
  send(channel: string, payload: unknown): void
  on(event: 'will-navigate' | 'will-redirect', cb: (e: { preventDefault(): void }, url: string) => void): void
  on(event: 'will-attach-webview', cb: (e: { preventDefault(): void }) => void): void
  setWindowOpenHandler(cb: () => { action: 'deny' }): void
  isDestroyed(): boolean
}
interface BrowserWindowT {
  webContents: WebContents
  loadURL(url: string): Promise<void>
  once(event: 'ready-to-show', cb: () => void): void
  show(): void
  isDestroyed(): boolean
}
interface IpcEvent {
  sender: WebContents
  senderFrame: { url: string } | null
}
interface Electron {
  app: {
    whenReady(): Promise<void>
    getVersion(): string
    requestSingleInstanceLock(): boolean
    quit(): void
    on(event: 'window-all-closed' | 'second-instance' | 'activate', cb: () => void): void
    on(event: 'web-contents-created', cb: (e: unknown, contents: WebContents) => void): void
    on(event: 'will-quit', cb: (e: { preventDefault(): void }) => void): void
  }
  BrowserWindow: new (o: Record<string, unknown>) => BrowserWindowT
  ipcMain: { handle(channel: string, fn: (e: IpcEvent, ...args: unknown[]) => Promise<unknown>): void }
  dialog: {
    showOpenDialog(
      w: BrowserWindowT,
      o: { properties: string[]; filters?: { name: string; extensions: string[] }[] },
    ): Promise<{ canceled: boolean; filePaths: string[] }>
  }
  protocol: {
    registerSchemesAsPrivileged(s: { scheme: string; privileges: Record<string, boolean> }[]): void
    handle(scheme: string, fn: (req: Request) => Promise<Response>): void
  }
  session: {
    defaultSession: {
      webRequest: {
        onHeadersReceived(
          fn: (
            d: { responseHeaders?: Record<string, string[]> },
            cb: (r: { responseHeaders: Record<string, string[]> }) => void,
          ) => void,
        ): void
      }
      setPermissionRequestHandler(
        fn: (wc: unknown, permission: string, cb: (ok: boolean) => void) => void,
      ): void
    }
  }
}

const electron = createRequire(import.meta.url)('electron') as Electron
const { app, BrowserWindow, ipcMain, dialog, protocol, session } = electron

const here = path.dirname(fileURLToPath(import.meta.url))
/** Built renderer (electron-vite: out/renderer beside out/main). */
const RENDERER_DIR = path.resolve(here, '../renderer')
const SCHEME = 'app'
const APP_ORIGIN = `${SCHEME}://workbench`
/** electron-vite dev server, only in development. */
const DEV_URL = process.env.ELECTRON_RENDERER_URL
const EVENT_CHANNEL = 'workbench:event'

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
}

/** Frames allowed to call the API: our app:// pages (or the dev server in development). */
function isAppUrl(url: string | undefined): boolean {
  if (!url) return false
  if (url === APP_ORIGIN || url.startsWith(APP_ORIGIN + '/')) return true
  return !!DEV_URL && (url === DEV_URL || url.startsWith(DEV_URL.replace(/\/?$/, '/')))
}

// Must run before 'ready': app:// behaves like a secure standard origin (fetch, CSP 'self').
protocol.registerSchemesAsPrivileged([
  { scheme: SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
])

/** The sandboxed preload must be a classic script: the CommonJS build (index.cjs, or index.js). */
function preloadPath(): string {
  const dir = path.join(here, '../preload')
  const found = ['index.cjs', 'index.js'].map((f) => path.join(dir, f)).find((f) => existsSync(f))
  if (!found) {
    throw new Error(
      `no CommonJS preload in ${dir}: build preload with output.format 'cjs' (sandboxed preloads cannot be ESM)`,
    )
  }
  return found
}

let mainWindow: BrowserWindowT | undefined
let api: ApiApp | undefined
let quitting = false

function createWindow(): BrowserWindowT {
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    show: false,
    title: 'CLLM4Rec Workbench',
    webPreferences: {
      preload: preloadPath(),
      contextIsolation: true,
      nodeIntegration: false,
      sandbox: true,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  })
  win.once('ready-to-show', () => win.show())
  void win.loadURL(DEV_URL ?? `${APP_ORIGIN}/index.html`)
  return win
}

function wireIpc(a: ApiApp): void {
  for (const method of API_METHODS) {
    ipcMain.handle(method, async (event, ...args) => {
      // Only our own window's own pages may call; an injected frame or another window may not.
      if (!mainWindow || event.sender.id !== mainWindow.webContents.id || !isAppUrl(event.senderFrame?.url)) {
        throw new Error(`IPC '${method}' refused: sender is not the workbench window`)
      }
      try {
        return await callApi(a.handlers, method, args)
      } catch (err) {
        // Only the message crosses to the page (no stack with local paths).
        throw new Error(err instanceof Error ? err.message : String(err))
      }
    })
  }
  a.bus.on((event) => {
    if (mainWindow && !mainWindow.isDestroyed() && !mainWindow.webContents.isDestroyed()) {
      mainWindow.webContents.send(EVENT_CHANNEL, event)
    }
  })
}

function lockDown(): void {
  session.defaultSession.webRequest.onHeadersReceived((details, cb) => {
    cb({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } })
  })
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, cb) => cb(false))
  protocol.handle(SCHEME, async (req) => {
    const url = new URL(req.url)
    const file = url.host === 'workbench' ? resolveStaticPath(RENDERER_DIR, url.pathname) : null
    if (!file) return new Response('not found', { status: 404 })
    const body = await readFile(file)
    return new Response(body, {
      headers: {
        'content-type': MIME[path.extname(file)] ?? 'application/octet-stream',
        'content-security-policy': CSP,
        'x-content-type-options': 'nosniff',
      },
    })
  })
}

app.on('web-contents-created', (_e, contents) => {
  contents.on('will-navigate', (e, url) => {
    if (!isAppUrl(url)) e.preventDefault()
  })
  contents.on('will-redirect', (e, url) => {
    if (!isAppUrl(url)) e.preventDefault()
  })
  contents.on('will-attach-webview', (e) => e.preventDefault())
  contents.setWindowOpenHandler(() => ({ action: 'deny' }))
})

if (!app.requestSingleInstanceLock()) {
  app.quit()
} else {
  app.on('second-instance', () => mainWindow?.show())
  app.on('window-all-closed', () => app.quit())
  app.on('will-quit', (e) => {
    // Let the run queue mark the active run 'interrupted' (resumable) before the process ends.
    if (quitting || !api) return
    e.preventDefault()
    quitting = true
    api
      .close()
      .catch((err) => console.error(err))
      .finally(() => app.quit())
  })
  void app.whenReady().then(() => {
    lockDown()
    api = createApiApp({
      mode: 'electron',
      version: app.getVersion(),
      // The same database as browser mode and the CLI (CLLM4REC_DB or the per-user app-data folder).
      dbPath: defaultDbPath(),
      dialogs: {
        pickFile: async () => {
          if (!mainWindow) return null
          const r = await dialog.showOpenDialog(mainWindow, { properties: ['openFile'] })
          return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0]
        },
        pickFolder: async () => {
          if (!mainWindow) return null
          const r = await dialog.showOpenDialog(mainWindow, { properties: ['openDirectory'] })
          return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0]
        },
      },
      createRuns: createRunManager,
    })
    wireIpc(api)
    api.services.backend().catch((err) => console.error(`backend probe failed: ${err?.message ?? err}`))
    mainWindow = createWindow()
  })
}
