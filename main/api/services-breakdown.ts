// The Results view's breakdown of a finished CLLM4Rec run (engine/eval/breakdown.ts, as `cli breakdown`
// prints it). Like the baselines, each call gets a one-off worker (loading the run and fitting EASE, and
// Mult-VAE when asked, takes minutes on real data); progress and the end go to every window as events,
// cancel through a shared flag. Nothing is stored: a breakdown is recomputed when asked for.
import type * as A from '../../preload/api'
import type { BaselineProgress } from '../worker/engine-ops'
import { CancelFlags, runInJobWorker } from './services-jobs'
import type { Services } from './services'
import type { RunServices } from './services-runs'
import { ApiError } from './validate'
import { MULT_VAE_EPOCHS } from '../engine/baselines/mult-vae-epochs'

const UNITS: Record<string, string> = { EASE: 'λ values', 'Mult-VAE': 'epochs', Scoring: 'users' }

export class BreakdownServices {
  /** Running breakdowns by run. */
  private readonly jobs = new CancelFlags()

  constructor(
    private readonly s: Services,
    private readonly runs: RunServices,
  ) {}

  async run(runId: number, split: A.EvalSplit, o: A.BreakdownOptions = {}): Promise<A.RunBreakdown> {
    const status = this.runs.statusOf(runId)
    if (status !== 'done')
      throw new ApiError(`run ${runId} is '${status}': only a finished run has a breakdown`, 409)
    const cancelFlag = this.jobs.open(runId, `a breakdown of run ${runId} is already running`)
    this.progress(runId, { stage: 'Loading the run', step: 0, totalSteps: 1, etaSec: null })
    try {
      const value = await runInJobWorker<Omit<A.RunBreakdown, 'runId'>>(
        this.s.jobHeapMb,
        `breakdown of run ${runId}`,
        {
          op: 'breakdown',
          dbPath: this.s.dbPath,
          runId,
          split,
          multVaeEpochs: o.multVae ? (o.multVaeEpochs ?? MULT_VAE_EPOCHS) : null,
          cancelFlag,
        },
        (raw) => this.progress(runId, raw as BaselineProgress),
      )
      const breakdown: A.RunBreakdown = { runId, ...value }
      this.s.bus.emit({ type: 'breakdown.status', runId, status: 'done', breakdown })
      return breakdown
    } catch (err) {
      throw this.ended(runId, err)
    } finally {
      this.jobs.close(runId)
    }
  }

  cancel(runId: number): void {
    this.jobs.cancel(runId, `no breakdown of run ${runId} is running`)
  }

  close(): void {
    this.jobs.cancelAll()
  }

  private progress(runId: number, p: BaselineProgress): void {
    const unit = UNITS[p.stage]
    this.s.bus.emit({
      type: 'breakdown.progress',
      runId,
      stage: p.stage,
      fraction: p.step / p.totalSteps,
      etaSec: p.etaSec,
      message: unit ? `${p.stage}: ${p.step}/${p.totalSteps} ${unit}` : p.stage,
    })
  }

  /** The error a failed or cancelled call rejects with, told to every window first. */
  private ended(runId: number, err: unknown): unknown {
    const cancelled = this.jobs.cancelled(runId)
    const e = cancelled ? new ApiError(`breakdown of run ${runId} cancelled`, 409) : err
    this.s.bus.emit({
      type: 'breakdown.status',
      runId,
      status: cancelled ? 'cancelled' : 'failed',
      error: e instanceof Error ? e.message : String(e),
    })
    return e
  }
}
