// Opening the workbench database: default location, WAL, foreign keys, busy timeout and versioned
// migrations. Everything else talks to SQLite through the small *-repo.ts modules.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { BUSY_TIMEOUT_MS, DEFAULT_BUSY_POLICY, retryBusy, type BusyPolicy } from './busy'
import { removeAbandonedStaging } from './dataset-writer'
import { MIGRATIONS } from './migrations'
import { StoreError } from './store-error'

export interface Store {
  readonly db: Database.Database
  readonly file: string
  /**
   * Runs fn as one write transaction (BEGIN IMMEDIATE). Where another connection holds the write lock
   * it waits and retries with backoff; `what` ("saving metrics of run 3") goes into the error if it
   * finally gives up. Inside an open transaction fn simply runs (the outer write retries).
   */
  write<T>(what: string, fn: () => T): T
  close(): void
}

export { StoreError }

/** Per-user app-data folder: XDG_DATA_HOME or ~/.local/share (Linux), Application Support (macOS), %APPDATA% (Windows). */
export function appDataDir(): string {
  const home = os.homedir()
  if (process.platform === 'win32')
    return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'cllm4rec-workbench')
  if (process.platform === 'darwin')
    return path.join(home, 'Library', 'Application Support', 'cllm4rec-workbench')
  return path.join(process.env.XDG_DATA_HOME || path.join(home, '.local', 'share'), 'cllm4rec-workbench')
}

/** --db flag, else CLLM4REC_DB, else <app data>/workbench.db. */
export function resolveDbPath(flag?: string): string {
  if (flag) return path.resolve(flag)
  if (process.env.CLLM4REC_DB) return path.resolve(process.env.CLLM4REC_DB)
  return path.join(appDataDir(), 'workbench.db')
}

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version

function migrate(db: Database.Database, file: string): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL)')
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null }
  const current = row.v ?? 0
  if (current > SCHEMA_VERSION)
    throw new StoreError(
      `${file}: database schema version ${current} is newer than this app supports (${SCHEMA_VERSION}); update the app`,
    )
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue
    db.transaction(() => {
      db.exec(m.sql)
      db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(
        m.version,
        new Date().toISOString(),
      )
    })()
  }
}

export function openStore(file: string, opts: { readonly?: boolean; busy?: BusyPolicy } = {}): Store {
  const resolved = file === ':memory:' ? file : path.resolve(file)
  if (resolved !== ':memory:') fs.mkdirSync(path.dirname(resolved), { recursive: true })
  let db: Database.Database
  try {
    db = new Database(resolved, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false })
  } catch (err) {
    throw new StoreError(`${resolved}: cannot open database (${(err as Error).message})`)
  }
  try {
    if (!opts.readonly) db.pragma('journal_mode = WAL')
    // NORMAL in WAL mode is safe against process crashes (a killed import leaves the DB as before).
    db.pragma('synchronous = NORMAL')
    db.pragma('foreign_keys = ON')
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
    if (!opts.readonly) retryBusy(resolved, 'upgrading the schema', () => migrate(db, resolved), opts.busy)
  } catch (err) {
    db.close()
    if (err instanceof StoreError) throw err
    throw new StoreError(`${resolved}: not a usable workbench database (${(err as Error).message})`)
  }
  const policy = opts.busy ?? DEFAULT_BUSY_POLICY
  const store: Store = {
    db,
    file: resolved,
    write: <T>(what: string, fn: () => T): T =>
      db.inTransaction ? fn() : retryBusy(resolved, what, () => db.transaction(fn).immediate(), policy),
    close: () => db.close(),
  }
  if (!opts.readonly) removeAbandonedStaging(store)
  return store
}

export const nowIso = (): string => new Date().toISOString()
