// Training thread entry: receives 'start' / 'cancel', runs one trainer, streams progress, metrics and
// checkpoints to main. All tensor work happens on this thread so main's event loop stays free.
import { parentPort } from 'node:worker_threads'
import type { RunProgress } from '../../preload/api'
import type { RecDataset } from '../data/types'
import {
  parseToWorker,
  type CheckpointBlob,
  type FromWorker,
  type StartMessage,
  type DatasetSource,
} from './messages'
import { isAbort, type TrainerContext } from './trainer'
import { loadTrainer } from './trainers'

if (!parentPort) throw new Error('training-worker must run in a worker thread')
const port = parentPort

const PROGRESS_INTERVAL_MS = 150

let controller: AbortController | undefined
let activeRun: number | undefined
const pendingAcks = new Map<number, () => void>()
let ackSeq = 0

function post(m: FromWorker): void {
  // Checkpoint tensors are transferred, not copied: embeddings can be hundreds of MB.
  const transfer =
    m.type === 'checkpoint' ? m.checkpoint.tensors.map((t) => t.data.buffer as ArrayBuffer) : []
  port.postMessage(m, transfer)
}

/** Gives every tensor its own buffer (views into a shared one cannot be transferred separately). */
function ownBuffers(c: CheckpointBlob): CheckpointBlob {
  const seen = new Set<ArrayBufferLike>()
  const tensors = c.tensors.map((t) => {
    const whole = t.data.byteOffset === 0 && t.data.byteLength === t.data.buffer.byteLength
    const data = whole && !seen.has(t.data.buffer) ? t.data : t.data.slice()
    seen.add(data.buffer)
    return { ...t, data }
  })
  return { ...c, tensors }
}

/** Checkpoints in SQLite through the services adapter, loaded on first use (tests use inline data). */
const dbCheckpoints = {
  async latest(dbPath: string, runId: number): Promise<CheckpointBlob | null> {
    const { loadLatestCheckpointFromDb } = await import('../api/services-runs')
    return loadLatestCheckpointFromDb(dbPath, runId)
  },
  saver: undefined as undefined | ((dbPath: string, runId: number, c: CheckpointBlob) => void),
  save(dbPath: string, runId: number, c: CheckpointBlob): void {
    if (!this.saver) throw new Error('checkpoint saver not loaded')
    this.saver(dbPath, runId, c)
  },
  async load(): Promise<void> {
    this.saver ??= (await import('../api/services-runs')).saveCheckpointToDb
  },
}

async function loadDataset(src: DatasetSource): Promise<RecDataset> {
  if (src.kind === 'inline') return src.dataset
  const { loadDatasetFromDb } = await import('../api/services')
  return loadDatasetFromDb(src.dbPath, src.datasetId)
}

/**
 * Cooperative end of GPU work: every readback has been awaited by now (a cancel lands between steps),
 * and the device is destroyed before main terminates this thread (a terminate during a pending GPU
 * readback aborts the whole process).
 */
async function releaseGpu(): Promise<void> {
  const { shutdownBackend } = await import('../engine/backend')
  await shutdownBackend()
}

/**
 * Progress to main, throttled so a fast loop does not flood it; the first update of every stage is sent
 * at once (a short stage still shows up), preceded by the previous stage's last unsent update.
 */
function throttledProgress(runId: number) {
  let lastProgress = 0
  let pending: RunProgress | undefined
  let lastStage = ''
  return {
    post(p: Omit<RunProgress, 'runId'>): void {
      const now = Date.now()
      if (pending && pending.stage !== p.stage) post({ type: 'progress', progress: pending })
      pending = { runId, ...p }
      if (p.stage !== lastStage || now - lastProgress >= PROGRESS_INTERVAL_MS || p.fraction >= 1) {
        lastStage = p.stage
        lastProgress = now
        post({ type: 'progress', progress: pending })
        pending = undefined
      }
    },
    /** Sends the last unsent update, at the end of the run. */
    flush(): void {
      if (pending) post({ type: 'progress', progress: pending })
      pending = undefined
    },
  }
}

async function run(msg: StartMessage): Promise<void> {
  controller = new AbortController()
  activeRun = msg.runId
  const runId = msg.runId
  const progress = throttledProgress(runId)
  const flag = msg.cancelFlag ? new Int32Array(msg.cancelFlag) : undefined
  const ctl = controller
  /** Called from every trainer callback: turns main's shared cancel flag into an abort. */
  const pollCancel = (): void => {
    if (flag && Atomics.load(flag, 0) === 1 && !ctl.signal.aborted) ctl.abort()
  }
  try {
    post({ type: 'status', runId, status: 'running' })
    const trainer = await loadTrainer(msg.trainer)
    if (msg.checkpoints) await dbCheckpoints.load()
    const ctx: TrainerContext = {
      runId,
      dataset: await loadDataset(msg.dataset),
      config: msg.config,
      templates: msg.templates,
      backbone: msg.backbone,
      seed: msg.seed,
      signal: controller.signal,
      resume: msg.checkpoints ? await dbCheckpoints.latest(msg.checkpoints.dbPath, runId) : msg.resume,
      progress(p) {
        pollCancel()
        progress.post(p)
      },
      metric(point) {
        pollCancel()
        post({ type: 'metric', runId, point })
      },
      async checkpoint(c) {
        pollCancel()
        if (msg.checkpoints) {
          dbCheckpoints.save(msg.checkpoints.dbPath, runId, c)
          post({ type: 'checkpoint-saved', runId, stage: c.stage, epoch: c.epoch, step: c.step })
          return
        }
        // Wait for main to confirm the write, so a cancel right after never loses the checkpoint.
        const seq = ++ackSeq
        return new Promise<void>((resolve) => {
          pendingAcks.set(seq, resolve)
          post({ type: 'checkpoint', runId, seq, checkpoint: ownBuffers(c) })
        })
      },
    }
    const result = await trainer(ctx)
    progress.flush()
    await releaseGpu()
    post({ type: 'done', runId, ...result })
  } catch (err) {
    // Main terminates the worker on the final message: the GPU device is closed before it is sent.
    await releaseGpu().catch(() => undefined)
    if (isAbort(err) || controller.signal.aborted) post({ type: 'status', runId, status: 'cancelled' })
    else
      post({
        type: 'error',
        runId,
        message: err instanceof Error ? err.message : String(err),
        stack: (err as Error)?.stack,
      })
  } finally {
    controller = undefined
    activeRun = undefined
  }
}

port.on('message', (raw: unknown) => {
  const msg = parseToWorker(raw)
  if (msg.type === 'checkpoint-ack') {
    pendingAcks.get(msg.seq)?.()
    pendingAcks.delete(msg.seq)
  } else if (msg.type === 'probe-backend') {
    void import('../engine/backend')
      .then((b) => b.initBackend('auto').then((info) => ({ info, b })))
      .then(async ({ info, b }) => {
        // Main terminates the probe on the answer: a GPU device is closed before (cooperative shutdown).
        await b.shutdownBackend()
        post({
          type: 'backend',
          runId: 0,
          name: info.name,
          reason: info.reason,
          adapter: info.adapter ? b.adapterLabel(info.adapter) : undefined,
        })
      })
      .catch((err) =>
        post({ type: 'error', runId: 0, message: err instanceof Error ? err.message : String(err) }),
      )
  } else if (msg.type === 'start') {
    if (activeRun !== undefined) throw new Error(`worker is busy with run ${activeRun}`)
    void run(msg)
  } else if (msg.type === 'cancel') {
    if (msg.runId === activeRun) controller?.abort()
  }
})
