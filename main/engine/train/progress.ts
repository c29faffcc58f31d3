// Progress events and ETA for long training work: the trainer knows nothing about the UI; it calls
// these callbacks (stderr in the CLI, IPC in the app) and honours an AbortSignal between steps.

export interface ProgressEvent {
  stage: string
  epoch: number
  step: number
  totalSteps: number
  loss: number
  tokensPerSec: number
  /** Seconds left for the whole run (not just this stage). */
  etaSec: number
  /**
   * Fraction of the whole run done, 0..1, when the producer knows the plan (the CLLM4Rec trainer: scratch
   * backbone, warm-up and every later epoch, weighted by measured seconds per token).
   */
  fraction?: number
}

export interface MetricEvent {
  stage: string
  epoch: number
  split: 'val' | 'test'
  metrics: Record<string, number>
}

export interface TrainCallbacks {
  onProgress?: (e: ProgressEvent) => void
  onMetric?: (e: MetricEvent) => void
  onLog?: (message: string) => void
  signal?: AbortSignal
}

/** Whole-run ETA from work done so far (steps are weighted by tokens). */
export class EtaTracker {
  private readonly start = performance.now()
  private doneWork = 0

  constructor(private totalWork: number) {}

  add(work: number): void {
    this.doneWork += work
  }

  setTotal(total: number): void {
    this.totalWork = total
  }

  etaSec(): number {
    const el = (performance.now() - this.start) / 1000
    if (this.doneWork <= 0) return NaN
    return Math.max(0, (el / this.doneWork) * (this.totalWork - this.doneWork))
  }
}

/** Per-stage token throughput (for reports and benchmarks). */
export class StageTimer {
  readonly stages = new Map<string, { tokens: number; seconds: number }>()

  record(stage: string, tokens: number, seconds: number): void {
    const s = this.stages.get(stage) ?? { tokens: 0, seconds: 0 }
    s.tokens += tokens
    s.seconds += seconds
    this.stages.set(stage, s)
  }

  summary(): Record<string, { tokens: number; seconds: number; tokensPerSec: number }> {
    const out: Record<string, { tokens: number; seconds: number; tokensPerSec: number }> = {}
    for (const [k, v] of this.stages)
      out[k] = { ...v, tokensPerSec: v.seconds > 0 ? v.tokens / v.seconds : 0 }
    return out
  }
}
