// Full-ranking evaluation shared by CLLM4Rec and every baseline (CLLM4REC.md §7): score all J items for
// a batch of users, exclude training items (and validation items at test time), take top-100, and
// average Recall@20/40 and NDCG@100 over users with at least one relevant item.
import type { RecDataset } from '../../data/types'
import { MetricAccumulator, type RankingMetrics } from './metrics'
import { topKBatch } from './topk'

/** Anything that ranks items: returns a row-major Float32Array [users.length, J]. */
export interface Scorer {
  scoreUsers(users: number[]): Float32Array | Promise<Float32Array>
}

export type EvalSplit = 'val' | 'test'

export interface EvaluateOptions {
  /** Users scored per call (memory: batch x J floats). */
  batchSize?: number
  /** Restrict to these users (default: all users with >= 1 relevant item). */
  users?: number[]
  signal?: AbortSignal
}

/** Items a user may not be recommended for this split: train, plus validation when testing. */
export function excludedItems(data: RecDataset, user: number, split: EvalSplit): Set<number> {
  const s = new Set(data.train[user])
  if (split === 'test') for (const i of data.val[user]) s.add(i)
  return s
}

export async function evaluate(
  scorer: Scorer,
  data: RecDataset,
  split: EvalSplit,
  opts: EvaluateOptions = {},
): Promise<RankingMetrics> {
  const nItems = data.itemIds.length
  const target = split === 'val' ? data.val : data.test
  const users = (opts.users ?? data.train.map((_, u) => u)).filter((u) => target[u].length > 0)
  const batch = opts.batchSize ?? 256
  const acc = new MetricAccumulator()
  for (let s = 0; s < users.length; s += batch) {
    opts.signal?.throwIfAborted()
    const chunk = users.slice(s, s + batch)
    const scores = await scorer.scoreUsers(chunk)
    const ranked = topKBatch(scores, chunk.length, nItems, 100, (r) => excludedItems(data, chunk[r], split))
    for (let r = 0; r < chunk.length; r++) acc.add(ranked[r], new Set(target[chunk[r]]))
  }
  return acc.result()
}
