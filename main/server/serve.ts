// `npm run serve`: browser mode. Parses flags, builds the API app and starts the loopback server.
//   --port N            port (default 0 = random free port)
//   --data DIR          allow-list a folder of dataset files (repeatable)
//   --models DIR        allow-list a folder of HF GPT-2 folders (repeatable)
//   --db FILE           SQLite file (default: CLLM4REC_DB or the per-user app-data folder)
//   --upload-limit-mb N upload size cap (default 2048)
//   --url-file F        also write the URL (with token) to F, for E2E tests
//   --dist DIR          built renderer (default renderer/dist)
import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createApiApp, type ApiApp } from '../api/app'
import { NO_DIALOGS } from '../api/context'
import { defaultDbPath } from '../api/services'
import { DEFAULT_UPLOAD_LIMIT_MB } from './protocol'
import { startServer } from './server'
import { createRunManager } from '../worker/run-manager'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export interface ServeFlags {
  port: number
  data: string[]
  models: string[]
  db?: string
  uploadLimitMb: number
  urlFile?: string
  dist: string
}

export function parseServeFlags(argv: string[]): ServeFlags {
  const f: ServeFlags = { port: 0, data: [], models: [], uploadLimitMb: DEFAULT_UPLOAD_LIMIT_MB, dist: '' }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]
    const value = (): string => {
      const x = argv[++i]
      if (x === undefined || x.startsWith('--')) throw new Error(`serve: ${flag} needs a value`)
      return x
    }
    const count = (x: string, min: number, max: number): number => {
      const n = Number(x)
      if (!Number.isInteger(n) || n < min || n > max)
        throw new Error(`serve: ${flag} must be an integer in [${min}, ${max}]`)
      return n
    }
    if (flag === '--port') f.port = count(value(), 0, 65535)
    else if (flag === '--data') f.data.push(value())
    else if (flag === '--models') f.models.push(value())
    else if (flag === '--db') f.db = value()
    else if (flag === '--upload-limit-mb') f.uploadLimitMb = count(value(), 1, 1 << 20)
    else if (flag === '--url-file') f.urlFile = value()
    else if (flag === '--dist') f.dist = value()
    else if (flag === '--host')
      throw new Error('serve: --host is not supported: browser mode binds to 127.0.0.1 only')
    else throw new Error(`serve: unknown flag '${flag}'`)
  }
  f.dist ||= path.join(repoRoot, 'renderer', 'dist')
  return f
}

/**
 * The API app without Electron (browser mode and the CLI's `api` command): version from package.json,
 * store at `db` (or the default path), no native dialogs, runs in worker threads.
 */
export function createBrowserApp(flags: {
  db?: string
  data: string[]
  models: string[]
  /** Omitted: FileAccess's default cap. */
  uploadLimitMb?: number
}): ApiApp {
  const version = (
    JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }
  ).version
  return createApiApp({
    mode: 'browser',
    version,
    dbPath: defaultDbPath(flags.db),
    dialogs: NO_DIALOGS,
    dataDirs: flags.data,
    modelDirs: flags.models,
    uploadLimit: flags.uploadLimitMb === undefined ? undefined : flags.uploadLimitMb * 1024 * 1024,
    createRuns: createRunManager,
  })
}

/** Starts browser mode with the given flags; resolves once listening (the process keeps running). */
export async function runServe(argv: string[]): Promise<void> {
  const flags = parseServeFlags(argv)
  const app = createBrowserApp(flags)
  // Ask a worker for the tfjs backend now, so the first appInfo does not wait for it.
  app.services.backend().catch((err) => console.error(`[serve] backend probe failed: ${err?.message ?? err}`))
  const server = await startServer({
    handlers: app.handlers,
    bus: app.bus,
    files: app.files,
    distDir: flags.dist,
    port: flags.port,
    log: (line) => console.error(line),
  })
  if (!existsSync(path.join(flags.dist, 'index.html'))) {
    console.error(
      `[serve] no built renderer in ${flags.dist}: run \`npm run build:web\` (the API works meanwhile)`,
    )
  }
  console.log(`CLLM4Rec Workbench (browser mode) at ${server.url}`)
  if (flags.urlFile) {
    const tmp = flags.urlFile + '.tmp'
    writeFileSync(tmp, server.url + '\n', { mode: 0o600 })
    renameSync(tmp, flags.urlFile)
  }
  let closing = false
  const shutdown = (): void => {
    if (closing) return
    closing = true
    Promise.all([server.close(), app.close()])
      .catch((err) => console.error(err))
      .finally(() => process.exit(0))
  }
  process.on('SIGINT', shutdown)
  process.on('SIGTERM', shutdown)
}

// Run when executed directly (`tsx main/server/serve.ts`), not when imported by the CLI.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  runServe(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.message : err)
    process.exit(1)
  })
}
