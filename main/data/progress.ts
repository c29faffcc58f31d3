// Progress reporting for long imports: bytes read against the total, rows seen, and an ETA from the
// observed rate. Callbacks are throttled so a 5M-row file does not spend its time reporting.

export type ImportPhase = 'hash' | 'parse' | 'preprocess' | 'write' | 'done'

export interface ImportProgress {
  phase: ImportPhase
  /** File the phase is reading, when there is one. */
  file?: string
  bytesRead: number
  totalBytes: number
  rows: number
  elapsedMs: number
  /** Estimated remaining time for this phase; null until a rate is known. */
  etaMs: number | null
}

export type ProgressCallback = (p: ImportProgress) => void

export class ProgressTracker {
  private readonly start = Date.now()
  private last = 0
  /** Latest byte position; the line reader's onBytes hook (see `onBytes`) keeps these current. */
  bytesRead = 0

  constructor(
    private readonly cb: ProgressCallback | undefined,
    private readonly phase: ImportPhase,
    public totalBytes: number,
    private readonly file?: string,
    private readonly intervalMs = 100,
  ) {}

  /** Pass as LineReaderOptions.onBytes. */
  readonly onBytes = (bytesRead: number, totalBytes: number): void => {
    this.bytesRead = bytesRead
    this.totalBytes = totalBytes
  }

  /** Reports at most every intervalMs unless forced (phase end). */
  update(bytesRead: number, rows: number, force = false): void {
    this.bytesRead = bytesRead
    if (!this.cb) return
    const now = Date.now()
    if (!force && now - this.last < this.intervalMs) return
    this.last = now
    const elapsedMs = now - this.start
    const rate = elapsedMs > 0 ? bytesRead / elapsedMs : 0
    // A rate from the first moments (a waiting write lock, the first few rows) is noise: no ETA
    // until a second has passed or 5% is done.
    const settled = elapsedMs >= 1000 || bytesRead >= 0.05 * this.totalBytes
    const etaMs =
      settled && rate > 0 && this.totalBytes > 0
        ? Math.max(0, Math.round((this.totalBytes - bytesRead) / rate))
        : null
    this.cb({
      phase: this.phase,
      file: this.file,
      bytesRead,
      totalBytes: this.totalBytes,
      rows,
      elapsedMs,
      etaMs,
    })
  }
}

/** Reports rows against the bytes last seen by onBytes. */
export function tick(t: ProgressTracker, rows: number, force = false): void {
  t.update(t.bytesRead, rows, force)
}
