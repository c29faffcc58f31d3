// The baselines a breakdown (eval/breakdown.ts) sets beside a trained run, fitted as an experiment fits
// them: popularity, EASE with λ chosen on validation, and Mult-VAE (best validation epoch) when asked.
// `cli breakdown` and the app's Results breakdown both build them here, so both compare the same models.
import type { RecDataset } from '../../data/types'
import { EASE_LAMBDA_GRID, fitEaseOnValidation } from '../baselines/ease'
import { MultVae } from '../baselines/mult-vae'
import { Popularity } from '../baselines/popularity'
import type { Scorer } from '../eval/evaluate'
import { baselineProgress } from './experiment'
import type { TrainCallbacks } from './progress'

export interface BreakdownModel {
  name: string
  /** What was chosen or fixed (EASE's λ, Mult-VAE's epochs); '' where nothing was. */
  setting: string
  scorer: Scorer
  /** Frees the model's tensors (Mult-VAE); the caller calls it once scoring is done. */
  dispose?: () => void
}

export interface BreakdownBaselineOptions {
  /** Default true; false where EASE's dense J x J matrix would not fit. */
  ease?: boolean
  /** Also fit Mult-VAE for this many epochs; absent: not fitted (it is the slow one). */
  multVaeEpochs?: number
}

async function easeModel(data: RecDataset, cb: TrainCallbacks): Promise<BreakdownModel> {
  const progress = baselineProgress(cb, 'EASE', EASE_LAMBDA_GRID.length, false)
  let done = 0
  const sel = await fitEaseOnValidation(data, EASE_LAMBDA_GRID, {
    signal: cb.signal,
    onLambda: () => progress(++done, NaN),
  })
  return { name: 'EASE', setting: `λ=${sel.lambda}, chosen on validation`, scorer: sel.model }
}

async function multVaeModel(data: RecDataset, epochs: number, cb: TrainCallbacks): Promise<BreakdownModel> {
  const progress = baselineProgress(cb, 'Mult-VAE', epochs, true)
  const r = await MultVae.fit(data, {
    epochs,
    signal: cb.signal,
    onEpoch: (e, loss) => progress(e + 1, loss),
  })
  return {
    name: 'Mult-VAE',
    setting: `${epochs} epochs, best at ${r.bestEpoch + 1} on validation`,
    scorer: r.model,
    dispose: () => r.model.dispose(),
  }
}

/** Popularity, then EASE and Mult-VAE as asked, with a progress event per EASE λ and Mult-VAE epoch. */
export async function breakdownBaselines(
  data: RecDataset,
  o: BreakdownBaselineOptions = {},
  cb: TrainCallbacks = {},
): Promise<BreakdownModel[]> {
  const models: BreakdownModel[] = [{ name: 'Popularity', setting: '', scorer: new Popularity(data) }]
  if (o.ease ?? true) models.push(await easeModel(data, cb))
  if (o.multVaeEpochs !== undefined) models.push(await multVaeModel(data, o.multVaeEpochs, cb))
  return models
}
