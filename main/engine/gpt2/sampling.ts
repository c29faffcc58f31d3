// Next-token choice for generation: greedy (argmax), or sampling with a temperature over the top-k
// logits, drawn from a seeded PRNG so the same seed gives the same text.
import { Rng } from '../train/rng'

export interface Sampling {
  /** > 0; 1 keeps the model's distribution, lower is sharper. */
  temperature: number
  /** Keep only the k most likely tokens (0 = all). */
  topK: number
  seed: number
}

export function checkSampling(s: Sampling): void {
  if (!(s.temperature > 0) || !Number.isFinite(s.temperature))
    throw new Error(`sampling: field temperature must be a finite number > 0, got ${s.temperature}`)
  if (!Number.isInteger(s.topK) || s.topK < 0)
    throw new Error(`sampling: field topK must be an integer >= 0, got ${s.topK}`)
}

/** A picker over one row of logits: argmax without sampling, else a seeded draw. */
export function tokenPicker(s?: Sampling): (logits: Float32Array) => number {
  if (!s) return argmax
  checkSampling(s)
  const rng = new Rng(s.seed)
  return (logits) => sample(logits, s, rng.next())
}

function argmax(logits: Float32Array): number {
  let best = 0
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i
  return best
}

/** Softmax(logits / T) over the top-k tokens, inverted at u in [0, 1). */
export function sample(logits: Float32Array, s: Sampling, u: number): number {
  const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a])
  const keep = s.topK > 0 ? order.slice(0, s.topK) : order
  const max = logits[keep[0]]
  const w = keep.map((i) => Math.exp((logits[i] - max) / s.temperature))
  const total = w.reduce((a, b) => a + b, 0)
  let acc = 0
  for (let j = 0; j < keep.length; j++) {
    acc += w[j] / total
    if (u < acc) return keep[j]
  }
  return keep[keep.length - 1]
}
