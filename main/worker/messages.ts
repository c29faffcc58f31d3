// Typed messages between main and the training worker (discriminated unions). Both directions are
// parsed on arrival: a message with an unknown type is a bug and throws instead of being ignored.
import type { BackendName, Metrics, MetricPoint, PromptTemplates, RunProgress } from '../../preload/api'
import type { RecDataset } from '../data/types'

/** Where the worker gets the data: from the SQLite file (app) or inline (tests, CLI). */
export type DatasetSource =
  | { kind: 'db'; dbPath: string; datasetId: number }
  | { kind: 'inline'; dataset: RecDataset }

/**
 * A checkpoint as it crosses the thread boundary and lands in the store's checkpoints table: named
 * float32 tensors plus JSON metadata (the trainer's own header: config, RNG state, bookkeeping).
 */
export interface CheckpointBlob {
  stage: string
  epoch: number
  step: number
  /** Format tag written by the trainer, e.g. 'bpr-mf v1' or 'cllm4rec v1'. */
  format: string
  meta: Record<string, unknown>
  tensors: { name: string; shape: number[]; data: Float32Array }[]
}

export interface StartMessage {
  type: 'start'
  runId: number
  /** Trainer name, see trainers.ts. */
  trainer: string
  dataset: DatasetSource
  /** Resolved (frozen) config for the trainer. */
  config: Record<string, unknown>
  templates?: PromptTemplates
  /** Backbone id ('scratch' or an HF folder path chosen by main) for LLM trainers. */
  backbone?: { id: string; dir?: string; cacheDir?: string }
  seed: number
  /**
   * 'db': the worker writes checkpoints to this SQLite file itself (its own connection, one
   * transaction each) and reads the latest one to resume, so multi-MB tensors never pass through
   * main's event loop. Absent: checkpoints go to main ('checkpoint' messages) and `resume` carries one.
   */
  checkpoints?: { kind: 'db'; dbPath: string }
  /**
   * Int32Array(1) over shared memory: main sets it to 1 to cancel. A training loop that never yields
   * to the event loop cannot receive a 'cancel' message, but it checks this flag on every callback.
   */
  cancelFlag?: SharedArrayBuffer
  /** Latest checkpoint when resuming (main-stored checkpoints only), else null. */
  resume: CheckpointBlob | null
}
export interface CancelMessage {
  type: 'cancel'
  runId: number
}
/** Main confirms a checkpoint is stored, so the trainer can go on (or be cancelled) safely. */
export interface CheckpointAckMessage {
  type: 'checkpoint-ack'
  runId: number
  seq: number
}
/** Asks a fresh worker which tfjs backend it selects (so main never has to load tfjs for appInfo). */
export interface ProbeBackendMessage {
  type: 'probe-backend'
  runId: 0
}
export type ToWorker = StartMessage | CancelMessage | CheckpointAckMessage | ProbeBackendMessage

export type FromWorker =
  | { type: 'status'; runId: number; status: 'running' | 'cancelled'; message?: string }
  | { type: 'progress'; progress: RunProgress }
  | { type: 'metric'; runId: number; point: MetricPoint }
  | { type: 'checkpoint'; runId: number; seq: number; checkpoint: CheckpointBlob }
  | { type: 'checkpoint-saved'; runId: number; stage: string; epoch: number; step: number }
  | { type: 'backend'; runId: 0; name: BackendName; reason: string; adapter?: string }
  | { type: 'done'; runId: number; test: Metrics; val?: Metrics; backend: string }
  | { type: 'error'; runId: number; message: string; stack?: string }

function obj(x: unknown, what: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x))
    throw new Error(`${what}: message is not an object`)
  return x as Record<string, unknown>
}

function runIdOf(m: Record<string, unknown>, what: string): number {
  if (typeof m.runId !== 'number' || !Number.isSafeInteger(m.runId))
    throw new Error(`${what}: '${m.type}' lacks runId`)
  return m.runId
}

export function parseToWorker(x: unknown): ToWorker {
  const m = obj(x, 'to worker')
  runIdOf(m, 'to worker')
  switch (m.type) {
    case 'start':
      if (typeof m.trainer !== 'string' || typeof m.dataset !== 'object' || typeof m.seed !== 'number') {
        throw new Error("to worker: malformed 'start'")
      }
      return m as unknown as StartMessage
    case 'cancel':
      return m as unknown as CancelMessage
    case 'probe-backend':
      return m as unknown as ProbeBackendMessage
    case 'checkpoint-ack':
      if (typeof m.seq !== 'number') throw new Error("to worker: 'checkpoint-ack' lacks seq")
      return m as unknown as CheckpointAckMessage
    default:
      throw new Error(`to worker: unknown message type '${String(m.type)}'`)
  }
}

export function parseFromWorker(x: unknown): FromWorker {
  const m = obj(x, 'from worker')
  switch (m.type) {
    case 'progress': {
      const p = obj(m.progress, "from worker: 'progress'")
      runIdOf(p, 'from worker progress')
      return m as unknown as FromWorker
    }
    case 'status':
    case 'metric':
    case 'checkpoint':
    case 'checkpoint-saved':
    case 'backend':
    case 'done':
    case 'error':
      runIdOf(m, 'from worker')
      return m as unknown as FromWorker
    default:
      throw new Error(`from worker: unknown message type '${String(m.type)}'`)
  }
}
