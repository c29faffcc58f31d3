// EASE (Steck, WWW 2019): B = I − P·diag(1/diag(P)), P = (XᵀX + λI)⁻¹, diag(B) = 0; scores = X·B.
// λ is chosen on the validation split from a log-spaced grid (CLLM4REC.md §7: same split, same evaluator).
import type { RecDataset } from '../../data/types'
import { evaluate, type Scorer } from '../eval/evaluate'
import { selectionScore, type RankingMetrics } from '../eval/metrics'
import { spdInverse } from './spd-inverse'

export const EASE_LAMBDA_GRID = [30, 100, 300, 1000]

/** Gram matrix XᵀX of the binary training matrix, Float64 [J, J]. */
export function gramMatrix(data: RecDataset): Float64Array {
  const J = data.itemIds.length
  const G = new Float64Array(J * J)
  for (const items of data.train) {
    for (const a of items) {
      const row = a * J
      for (const b of items) G[row + b] += 1
    }
  }
  return G
}

export class Ease implements Scorer {
  /** Item-item weights [J, J] (row i = contribution of a training item i), zero diagonal. */
  readonly B: Float32Array

  private constructor(
    private readonly data: RecDataset,
    readonly lambda: number,
    B: Float32Array,
  ) {
    this.B = B
  }

  static fit(data: RecDataset, lambda: number, gram?: Float64Array, signal?: AbortSignal): Ease {
    if (!(lambda > 0)) throw new Error(`Ease.fit: lambda must be > 0, got ${lambda}`)
    const J = data.itemIds.length
    const A = (gram ?? gramMatrix(data)).slice()
    for (let i = 0; i < J; i++) A[i * J + i] += lambda
    const P = spdInverse(A, J, { signal })
    const B = new Float32Array(J * J)
    for (let i = 0; i < J; i++) {
      for (let j = 0; j < J; j++) B[i * J + j] = i === j ? 0 : -P[i * J + j] / P[j * J + j]
    }
    return new Ease(data, lambda, B)
  }

  scoreUsers(users: number[]): Float32Array {
    const J = this.data.itemIds.length
    const out = new Float32Array(users.length * J)
    users.forEach((u, r) => {
      const o = r * J
      for (const i of this.data.train[u]) {
        const row = i * J
        for (let j = 0; j < J; j++) out[o + j] += this.B[row + j]
      }
    })
    return out
  }
}

export interface EaseSelection {
  model: Ease
  lambda: number
  validation: { lambda: number; metrics: RankingMetrics }[]
}

/** Fits EASE for every λ in the grid and keeps the best by Recall@20 + Recall@40 + NDCG@100 on val. */
export async function fitEaseOnValidation(
  data: RecDataset,
  grid: number[] = EASE_LAMBDA_GRID,
  opts: { signal?: AbortSignal; onLambda?: (lambda: number, m: RankingMetrics) => void } = {},
): Promise<EaseSelection> {
  if (grid.length === 0) throw new Error('fitEaseOnValidation: empty lambda grid')
  const G = gramMatrix(data)
  let best: Ease | undefined
  let bestScore = -Infinity
  const validation: EaseSelection['validation'] = []
  for (const lambda of grid) {
    const m = Ease.fit(data, lambda, G, opts.signal)
    const metrics = await evaluate(m, data, 'val', { signal: opts.signal })
    validation.push({ lambda, metrics })
    opts.onLambda?.(lambda, metrics)
    if (selectionScore(metrics) > bestScore) {
      bestScore = selectionScore(metrics)
      best = m
    }
  }
  return { model: best!, lambda: best!.lambda, validation }
}
