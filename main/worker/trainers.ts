// Trainer registry: the worker looks up the start message's trainer name here. 'cllm4rec' is the
// product; 'bpr-mf' is the fast self-check used by the worker protocol tests.
import { bprTrainer } from './bpr-trainer'
import type { Trainer } from './trainer'

export const TRAINERS: Record<string, () => Promise<Trainer>> = {
  // Loaded lazily: the engine (tfjs) is only imported by workers that train CLLM4Rec.
  cllm4rec: async () => (await import('./cllm4rec-trainer')).cllm4recTrainer,
  'bpr-mf': async () => bprTrainer,
}

export async function loadTrainer(name: string): Promise<Trainer> {
  const load = TRAINERS[name]
  if (!load) throw new Error(`unknown trainer '${name}' (known: ${Object.keys(TRAINERS).join(', ')})`)
  return load()
}
