// Writers that find the database locked by another connection (an import in its worker, a training
// worker's checkpoint) wait and retry with backoff instead of failing after one busy timeout. A long
// writer leaves a note beside the database, so a writer that finally gives up can say what held it.
import fs from 'node:fs'
import { StoreError } from './store-error'

/** How long a writer keeps retrying before it gives up (a 12M-row import holds the lock ~15 s). */
export const DEFAULT_BUSY_WAIT_MS = 10 * 60_000

/** SQLite's own wait per attempt (busy_timeout); the retry loop's backoff comes on top. */
export const BUSY_TIMEOUT_MS = 200

const BUSY_CODES = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY', 'SQLITE_LOCKED'])

export function isBusyError(err: unknown): boolean {
  return BUSY_CODES.has((err as { code?: string })?.code ?? '')
}

const sleeper = new Int32Array(new SharedArrayBuffer(4))
/** Blocks this thread; SQLite's busy handler blocks the same way, so nothing new is held up. */
const sleepSync = (ms: number): void => void Atomics.wait(sleeper, 0, 0, ms)

export interface BusyPolicy {
  maxWaitMs: number
  /** First backoff; doubles up to maxBackoffMs, with jitter so two waiting writers do not collide. */
  backoffMs: number
  maxBackoffMs: number
}

export const DEFAULT_BUSY_POLICY: BusyPolicy = {
  maxWaitMs: DEFAULT_BUSY_WAIT_MS,
  backoffMs: 25,
  maxBackoffMs: 2000,
}

export class BusyError extends StoreError {
  constructor(message: string) {
    super(message)
    this.name = 'BusyError'
  }
}

const noteFile = (dbFile: string) => `${dbFile}-writer.json`
const waitingFile = (dbFile: string) => `${dbFile}-waiting`

/** Tells long writers (a chunked import) that someone waits for the lock; they then pause between chunks. */
function markWaiting(dbFile: string): void {
  if (dbFile === ':memory:') return
  try {
    fs.writeFileSync(waitingFile(dbFile), '')
  } catch {
    // a read-only folder: the long writer just will not pause
  }
}

/** Whether a writer reported waiting within the last two seconds. */
export function writersWaiting(dbFile: string): boolean {
  try {
    return Date.now() - fs.statSync(waitingFile(dbFile)).mtimeMs < 2000
  } catch {
    return false
  }
}

/** Marks a long write ("importing big.tsv") for the messages of writers that wait on it. */
export function withWriterNote<T>(dbFile: string, what: string, fn: () => T): T {
  if (dbFile === ':memory:') return fn()
  const note = noteFile(dbFile)
  try {
    fs.writeFileSync(note, JSON.stringify({ what, pid: process.pid, since: new Date().toISOString() }))
  } catch {
    return fn() // a read-only folder: the note is a courtesy, never a reason to fail
  }
  try {
    return fn()
  } finally {
    fs.rmSync(note, { force: true })
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function holder(dbFile: string): string {
  try {
    const n = JSON.parse(fs.readFileSync(noteFile(dbFile), 'utf8')) as {
      what: string
      pid: number
      since: string
    }
    // A note left by a killed process says nothing about who holds the lock now.
    if (!processAlive(n.pid)) return ''
    return `; the lock was held by: ${n.what} (since ${n.since})`
  } catch {
    return ''
  }
}

/**
 * Runs `attempt` (one write transaction) until it gets the write lock. Gives up after maxWaitMs with
 * a message naming the database, what this writer was doing and, where noted, what held the lock.
 */
export function retryBusy<T>(
  dbFile: string,
  what: string,
  attempt: () => T,
  policy: BusyPolicy = DEFAULT_BUSY_POLICY,
): T {
  const t0 = Date.now()
  let backoff = policy.backoffMs
  for (let tries = 1; ; tries++) {
    try {
      return attempt()
    } catch (err) {
      if (!isBusyError(err)) throw err
      markWaiting(dbFile)
      const waited = Date.now() - t0
      if (waited >= policy.maxWaitMs)
        throw new BusyError(
          `${dbFile}: database busy: another connection kept the write lock for ${(waited / 1000).toFixed(1)} s ` +
            `while ${what} (${tries} attempts)${holder(dbFile)}`,
        )
      sleepSync(Math.min(backoff * (0.5 + Math.random()), policy.maxWaitMs - waited))
      backoff = Math.min(backoff * 2, policy.maxBackoffMs)
    }
  }
}
