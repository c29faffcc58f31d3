// The run queue in main: ONE training worker at a time, FIFO. Main only starts, cancels and relays:
// it persists status, metrics and checkpoints (each checkpoint atomically) and emits AppEvents.
// Runs left 'running' or 'queued' by an app exit are marked 'interrupted' at start and can be resumed
// from their last checkpoint.
import { Worker, type WorkerOptions } from 'node:worker_threads'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { BackendName, RunInput, RunProgress, RunStatus } from '../../preload/api'
import type { Runs } from '../api/context'
import type { EventBus } from '../api/events'
import { ApiError } from '../api/validate'
import {
  parseFromWorker,
  type CheckpointBlob,
  type FromWorker,
  type StartMessage,
  type ToWorker,
} from './messages'
import type { TrainerResult } from './trainer'

/** What the queue needs from persistence (implemented by the services adapter over the store). */
export interface RunPersistence {
  /** Creates the run row (status 'queued') with its resolved config; returns its id. */
  createRun(input: RunInput): number
  /** Everything the worker needs to (re)start the run, except the checkpoint. */
  jobFor(runId: number): Omit<StartMessage, 'type' | 'resume'>
  statusOf(runId: number): RunStatus
  setStatus(runId: number, status: RunStatus, error?: string): void
  addMetric(runId: number, point: import('../../preload/api').MetricPoint): void
  /** Must be atomic: a crash mid-write leaves the previous checkpoint intact. */
  saveCheckpoint(runId: number, c: CheckpointBlob): void
  latestCheckpoint(runId: number): CheckpointBlob | null
  finishRun(runId: number, result: TrainerResult, durationSec: number): void
  deleteRun(runId: number): void
  /** Runs with status 'running' or 'queued' (left over from a previous process). */
  unfinishedRuns(): number[]
}

/** Starts a worker entry: the bundled .js next to this module, or the .ts source through tsx. */
export function workerEntry(
  name: 'training-worker' | 'engine-worker',
  options: Pick<WorkerOptions, 'resourceLimits'> = {},
): Worker {
  const here = fileURLToPath(import.meta.url)
  const dir = path.dirname(here)
  if (here.endsWith('.ts')) {
    const entryUrl = pathToFileURL(path.join(dir, `${name}.ts`)).href
    return new Worker(path.join(dir, 'tsx-bootstrap.mjs'), { ...options, workerData: { entryUrl } })
  }
  // electron-vite bundles main into out/main/index.js and the worker entries beside it. In a packaged
  // app they and their chunks are unpacked from the asar archive (electron-builder.yml asarUnpack).
  const unpacked = dir.replace(/([\\/])app\.asar([\\/])/, '$1app.asar.unpacked$2')
  return new Worker(path.join(unpacked, `${name}.js`), options)
}

export function spawnTrainingWorker(): Worker {
  return workerEntry('training-worker')
}

/** The backend a training worker selects, asked of a short-lived worker (tfjs stays out of main). */
export async function probeBackend(
  spawn: () => Worker = spawnTrainingWorker,
): Promise<{ name: BackendName; reason: string; adapter?: string }> {
  const w = spawn()
  try {
    return await new Promise((resolve, reject) => {
      w.on('message', (raw: unknown) => {
        const m = parseFromWorker(raw)
        if (m.type === 'backend') resolve({ name: m.name, reason: m.reason, adapter: m.adapter })
        else if (m.type === 'error') reject(new Error(m.message))
      })
      w.on('error', reject)
      w.on('exit', (code) => reject(new Error(`backend probe worker exited (${code})`)))
      w.postMessage({ type: 'probe-backend', runId: 0 } satisfies ToWorker)
    })
  } finally {
    await w.terminate()
  }
}

export interface RunManagerOptions {
  spawn?: () => Worker
  /** How long a cancelled worker may take to stop before it is terminated. */
  cancelGraceMs?: number
}

interface Active {
  runId: number
  worker: Worker
  cancelFlag: Int32Array
  started: number
  cancelling: boolean
  settled: Promise<void>
}

export class RunManager implements Runs {
  private readonly queue: number[] = []
  private active: Active | undefined
  private readonly progressByRun = new Map<number, RunProgress>()
  private readonly spawn: () => Worker
  private readonly grace: number
  private stopped = false

  constructor(
    private readonly store: RunPersistence,
    private readonly bus: EventBus,
    o: RunManagerOptions = {},
  ) {
    this.spawn = o.spawn ?? spawnTrainingWorker
    this.grace = o.cancelGraceMs ?? 10_000
    for (const runId of store.unfinishedRuns()) this.setStatus(runId, 'interrupted')
  }

  async start(input: RunInput): Promise<number> {
    const runId = this.store.createRun(input)
    this.enqueue(runId)
    return runId
  }

  async resume(runId: number): Promise<void> {
    const status = this.store.statusOf(runId)
    if (!['interrupted', 'cancelled', 'failed'].includes(status)) {
      throw new ApiError(
        `run ${runId} is '${status}': only interrupted, cancelled or failed runs can be resumed`,
        409,
      )
    }
    // A cancelled run is 'cancelled' as soon as the worker says so, but its worker may still be
    // stopping: resume once it has exited, or the resume would be taken for a duplicate and dropped.
    const a = this.active
    if (a?.runId === runId) await a.settled
    this.enqueue(runId)
  }

  async cancel(runId: number): Promise<void> {
    const q = this.queue.indexOf(runId)
    if (q >= 0) {
      this.queue.splice(q, 1)
      this.setStatus(runId, 'cancelled')
      return
    }
    const a = this.active
    if (a?.runId !== runId) {
      const status = this.store.statusOf(runId)
      throw new ApiError(`run ${runId} is '${status}', not queued or running`, 409)
    }
    if (a.cancelling) return a.settled
    a.cancelling = true
    // The flag reaches a worker busy in a synchronous loop; the message covers one waiting on I/O.
    Atomics.store(a.cancelFlag, 0, 1)
    this.post(a.worker, { type: 'cancel', runId })
    const timer = setTimeout(() => void a.worker.terminate(), this.grace)
    await a.settled
    clearTimeout(timer)
  }

  async delete(runId: number): Promise<void> {
    const status = this.store.statusOf(runId)
    if (status === 'queued' || status === 'running') await this.cancel(runId)
    this.progressByRun.delete(runId)
    this.store.deleteRun(runId)
  }

  progress(runId: number): RunProgress | undefined {
    return this.progressByRun.get(runId)
  }

  /** Runs waiting behind the active one, in order. */
  queued(): readonly number[] {
    return [...this.queue]
  }

  activeRun(): number | undefined {
    return this.active?.runId
  }

  /** App exit: the active and queued runs become 'interrupted' (resumable from the last checkpoint). */
  async shutdown(): Promise<void> {
    this.stopped = true
    for (const runId of this.queue.splice(0)) this.setStatus(runId, 'interrupted')
    const a = this.active
    if (a) {
      a.cancelling = true
      // Stopped cooperatively first (a GPU worker terminated during a readback aborts the process).
      Atomics.store(a.cancelFlag, 0, 1)
      this.post(a.worker, { type: 'cancel', runId: a.runId })
      const timer = setTimeout(() => void a.worker.terminate(), this.grace)
      await a.settled
      clearTimeout(timer)
    }
  }

  /** Resolves when no run is active or queued (tests, CLI). */
  async idle(): Promise<void> {
    while (this.active) await this.active.settled
  }

  private enqueue(runId: number): void {
    if (this.stopped) throw new ApiError('the app is shutting down', 409)
    if (this.queue.includes(runId) || this.active?.runId === runId) return
    this.queue.push(runId)
    this.setStatus(runId, 'queued')
    this.pump()
  }

  private setStatus(runId: number, status: RunStatus, error?: string): void {
    this.store.setStatus(runId, status, error)
    this.bus.emit(
      error === undefined
        ? { type: 'run.status', runId, status }
        : { type: 'run.status', runId, status, error },
    )
  }

  private post(worker: Worker, m: ToWorker): void {
    worker.postMessage(m)
  }

  /** One message from the active run's worker: status, progress, metric, checkpoint, or its end. */
  private onMessage(a: Active, m: FromWorker, end: (status: RunStatus, error?: string) => void): void {
    const runId = a.runId
    switch (m.type) {
      case 'status':
        if (m.status === 'running') this.setStatus(runId, 'running')
        else end(this.stopped ? 'interrupted' : 'cancelled')
        break
      case 'progress': {
        // A resumed run redoes the work after its last checkpoint: the bar never goes back.
        const prev = this.progressByRun.get(runId)?.fraction ?? 0
        const p = { ...m.progress, fraction: Math.max(prev, m.progress.fraction) }
        this.progressByRun.set(runId, p)
        this.bus.emit({ type: 'run.progress', ...p })
        break
      }
      case 'metric': {
        // Stamped on arrival: the wall-clock axis of the charts (a resume shows its pause).
        const point = { ...m.point, atMs: Date.now() }
        this.store.addMetric(runId, point)
        this.bus.emit({ type: 'run.metric', runId, point })
        break
      }
      case 'checkpoint':
        this.store.saveCheckpoint(runId, m.checkpoint)
        this.post(a.worker, { type: 'checkpoint-ack', runId, seq: m.seq })
        break
      case 'checkpoint-saved':
        break
      case 'done':
        this.store.finishRun(runId, m, (Date.now() - a.started) / 1000)
        end('done')
        break
      case 'error':
        end('failed', m.message)
        break
    }
  }

  private pump(): void {
    if (this.active || this.stopped) return
    const runId = this.queue.shift()
    if (runId === undefined) return
    let job: Omit<StartMessage, 'type' | 'resume'>
    let resume: CheckpointBlob | null
    try {
      job = this.store.jobFor(runId)
      // With DB checkpoints the worker reads the latest one itself (off main's event loop).
      resume = job.checkpoints ? null : this.store.latestCheckpoint(runId)
    } catch (err) {
      this.setStatus(runId, 'failed', err instanceof Error ? err.message : String(err))
      return this.pump()
    }
    const worker = this.spawn()
    let finish!: () => void
    const cancelFlag = new SharedArrayBuffer(4)
    const a: Active = {
      runId,
      worker,
      cancelFlag: new Int32Array(cancelFlag),
      started: Date.now(),
      cancelling: false,
      settled: new Promise<void>((r) => (finish = r)),
    }
    this.active = a
    let final: RunStatus | undefined
    const end = (status: RunStatus, error?: string): void => {
      if (final) return
      final = status
      this.setStatus(runId, status, error)
      void worker.terminate()
    }
    worker.on('message', (raw: unknown) => {
      try {
        const m = parseFromWorker(raw)
        const about = m.type === 'progress' ? m.progress.runId : m.runId
        if (about !== runId) throw new Error(`message for run ${about} during run ${runId}`)
        this.onMessage(a, m, end)
      } catch (err) {
        end('failed', `worker protocol: ${err instanceof Error ? err.message : String(err)}`)
      }
    })
    worker.on('error', (err) => end('failed', err.message))
    worker.on('exit', () => {
      // Exit without a final message: cancel timed out (cancelled), app exit (interrupted), or a crash.
      if (!final)
        end(
          this.stopped ? 'interrupted' : a.cancelling ? 'cancelled' : 'failed',
          this.stopped || a.cancelling ? undefined : 'training worker exited unexpectedly',
        )
      this.active = undefined
      finish()
      this.pump()
    })
    this.post(worker, { type: 'start', ...job, runId, resume, cancelFlag })
  }
}

export function createRunManager(store: RunPersistence, bus: EventBus): RunManager {
  return new RunManager(store, bus)
}
