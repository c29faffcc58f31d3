// Run persistence kept in memory for the queue tests: the worker thread, the trainer and the queue are
// the real ones; only SQLite is left out, so these tests isolate the protocol and the scheduling.
import type { MetricPoint, RunInput, RunStatus } from '../../../preload/api'
import { generateDemoDataset } from '../../../main/data/demo'
import type { CheckpointBlob, StartMessage } from '../../../main/worker/messages'
import type { RunPersistence } from '../../../main/worker/run-manager'
import type { TrainerResult } from '../../../main/worker/trainer'

export interface MemoryRun {
  input: RunInput
  status: RunStatus
  error?: string
  metrics: MetricPoint[]
  checkpoints: CheckpointBlob[]
  result?: TrainerResult
  starts: number
}

export class MemoryRuns implements RunPersistence {
  readonly runs = new Map<number, MemoryRun>()
  readonly dataset = generateDemoDataset({ seed: 3, users: 80, items: 60 })
  private next = 1

  constructor(private readonly trainerConfig: Record<string, unknown>) {}

  createRun(input: RunInput): number {
    const id = this.next++
    this.runs.set(id, { input, status: 'queued', metrics: [], checkpoints: [], starts: 0 })
    return id
  }
  private get(id: number): MemoryRun {
    const r = this.runs.get(id)
    if (!r) throw new Error(`no run ${id}`)
    return r
  }
  jobFor(runId: number): Omit<StartMessage, 'type' | 'resume'> {
    const r = this.get(runId)
    r.starts++
    return {
      runId,
      trainer: 'bpr-mf',
      dataset: { kind: 'inline', dataset: this.dataset },
      config: { ...this.trainerConfig, ...r.input.overrides },
      seed: r.input.seed,
    }
  }
  statusOf(runId: number): RunStatus {
    return this.get(runId).status
  }
  setStatus(runId: number, status: RunStatus, error?: string): void {
    const r = this.get(runId)
    r.status = status
    r.error = error
  }
  addMetric(runId: number, point: MetricPoint): void {
    this.get(runId).metrics.push(point)
  }
  saveCheckpoint(runId: number, c: CheckpointBlob): void {
    this.get(runId).checkpoints.push(c)
  }
  latestCheckpoint(runId: number): CheckpointBlob | null {
    return this.get(runId).checkpoints.at(-1) ?? null
  }
  finishRun(runId: number, result: TrainerResult): void {
    this.get(runId).result = result
  }
  deleteRun(runId: number): void {
    this.runs.delete(runId)
  }
  unfinishedRuns(): number[] {
    return [...this.runs].filter(([, r]) => r.status === 'running' || r.status === 'queued').map(([id]) => id)
  }
}

export function runInput(overrides: Record<string, unknown> = {}): RunInput {
  const t = 'x'
  return {
    datasetId: 1,
    preset: 'paper',
    overrides,
    templates: { collaborative: t, review: t, itemText: t, userText: t, recommendation: t },
    backboneId: 'scratch',
    seed: 7,
  }
}
