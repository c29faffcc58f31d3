// The contract between the worker shell and a trainer: data and config in; progress, metrics and
// checkpoints out through callbacks; an AbortSignal for cancel; the last checkpoint for resume.
import type { Metrics, MetricPoint, PromptTemplates, RunProgress } from '../../preload/api'
import type { RecDataset } from '../data/types'
import type { CheckpointBlob } from './messages'

export interface TrainerContext {
  runId: number
  dataset: RecDataset
  config: Record<string, unknown>
  templates?: PromptTemplates
  backbone?: { id: string; dir?: string; cacheDir?: string }
  seed: number
  signal: AbortSignal
  /** Latest checkpoint of this run (resume), else null. */
  resume: CheckpointBlob | null
  progress(p: Omit<RunProgress, 'runId'>): void
  metric(point: MetricPoint): void
  /** Hands a checkpoint to main, which stores it atomically; resolves once it is stored. */
  checkpoint(c: CheckpointBlob): Promise<void>
}

export interface TrainerResult {
  test: Metrics
  val?: Metrics
  backend: string
}

export type Trainer = (ctx: TrainerContext) => Promise<TrainerResult>

/** Thrown by trainers when the signal fires, so the shell reports 'cancelled', not 'failed'. */
export class CancelledError extends Error {
  constructor() {
    super('run cancelled')
    this.name = 'CancelledError'
  }
}

export function isAbort(err: unknown): boolean {
  const name = (err as { name?: string })?.name
  return name === 'CancelledError' || name === 'AbortError'
}
