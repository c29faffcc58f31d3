// The Results view's breakdown of a finished run, in a one-off engine worker: the run's tables beside
// the breakdown baselines (engine/train/breakdown-baselines.ts, as `cli breakdown` fits them), grouped by
// user history length and held-out item popularity (engine/eval/breakdown.ts). Nothing is stored.
import type * as A from '../../preload/api'
import type { Cllm4recSession } from '../engine/cllm4rec/session'
import { breakdown, type BreakdownRow } from '../engine/eval/breakdown'
import { breakdownBaselines } from '../engine/train/breakdown-baselines'
import { baselineProgress, protocolLabel } from '../engine/train/experiment'
import type { TrainCallbacks } from '../engine/train/progress'
import { EASE_MAX_ITEMS, jobProgress, type BaselineProgress } from './engine-ops'

export interface BreakdownJob {
  split: A.EvalSplit
  /** Mult-VAE's epochs; null leaves Mult-VAE out. */
  multVaeEpochs: number | null
  /** The session holds the best validation epoch's tables (else the last epoch's). */
  validationSelected: boolean
  signal: AbortSignal
  onProgress: (p: BaselineProgress) => void
}

/** One axis's rows; an empty group's NaN becomes null, as JSON would make it: one shape for IPC and HTTP. */
function groups(rows: BreakdownRow[], axis: BreakdownRow['axis']): A.BreakdownGroup[] {
  return rows
    .filter((r) => r.axis === axis)
    .map((r) => ({
      group: r.group,
      count: r.count,
      values: Object.fromEntries(Object.entries(r.values).map(([m, v]) => [m, Number.isNaN(v) ? null : v])),
    }))
}

/** Scoring reports users done; its ETA clock starts at the first report (0 users, before any batch). */
function scoringProgress(cb: TrainCallbacks): (done: number, total: number) => void {
  let progress: ((done: number, loss: number) => void) | undefined
  return (done, total) => (progress ??= baselineProgress(cb, 'Scoring', total, true))(done, NaN)
}

export async function runBreakdown(
  session: Cllm4recSession,
  job: BreakdownJob,
): Promise<Omit<A.RunBreakdown, 'runId'>> {
  const t0 = performance.now()
  const data = session.data
  const cb: TrainCallbacks = { signal: job.signal, onProgress: (e) => job.onProgress(jobProgress(e)) }
  const baselines = await breakdownBaselines(
    data,
    {
      ease: data.itemIds.length <= EASE_MAX_ITEMS,
      multVaeEpochs: job.multVaeEpochs ?? undefined,
    },
    cb,
  )
  try {
    const ours = {
      name: 'CLLM4Rec',
      setting: job.validationSelected ? 'best validation epoch' : 'last epoch (the run never validated)',
      scorer: session,
    }
    const models = [ours, ...baselines]
    const rows = await breakdown(models, data, job.split, {
      signal: job.signal,
      onProgress: scoringProgress(cb),
    })
    return {
      datasetName: data.name,
      split: job.split,
      protocol: protocolLabel(data, job.split),
      validationSelected: job.validationSelected,
      models: models.map((m) => ({ name: m.name, setting: m.setting })),
      history: groups(rows, 'history'),
      popularity: groups(rows, 'popularity'),
      durationSec: (performance.now() - t0) / 1000,
    }
  } finally {
    for (const m of baselines) m.dispose?.()
  }
}
