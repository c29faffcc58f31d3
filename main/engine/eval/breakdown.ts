// Where a model wins or loses (error analysis beside the overall metrics): Recall@20 by the user's
// training-history length, and hit@20 of held-out items by their training popularity. Same ranking as
// evaluate(): all items scored, training items (and validation items at test) excluded.
import type { RecDataset } from '../../data/types'
import { excludedItems, type EvalSplit, type Scorer } from './evaluate'
import { hitVector, recallAtK } from './metrics'
import { topKBatch } from './topk'

/** Lower edges of the history-length groups: 1–3, 4–5, 6–9, 10–19, 20+ training items. */
export const HISTORY_EDGES = [1, 4, 6, 10, 20]
/** Lower edges of the item-popularity groups (training interactions): 0–2, 3–5, 6–10, 11–20, 21–50, 51+. */
export const POPULARITY_EDGES = [0, 3, 6, 11, 21, 51]

export interface BreakdownRow {
  /** 'history': mean Recall@20 of the group's users; 'popularity': share of the group's held-out items in the top 20. */
  axis: 'history' | 'popularity'
  group: string
  /** Users (history) or held-out items (popularity) in the group. */
  count: number
  /** Per model name, the group's figure. */
  values: Record<string, number>
}

/** Group labels of a list of lower edges: "1–3", …, "20+". */
export function groupLabels(edges: number[]): string[] {
  return edges.map((lo, g) => (g + 1 < edges.length ? `${lo}–${edges[g + 1] - 1}` : `${lo}+`))
}

/** Index of the group a value falls in (values below the first edge go to the first group). */
export function groupOf(edges: number[], v: number): number {
  let g = 0
  while (g + 1 < edges.length && v >= edges[g + 1]) g++
  return g
}

export async function breakdown(
  models: { name: string; scorer: Scorer }[],
  data: RecDataset,
  split: EvalSplit,
  opts: {
    batchSize?: number
    signal?: AbortSignal
    /** Users scored by every model so far, and in all: once with 0 before the first batch, then per batch. */
    onProgress?: (done: number, total: number) => void
  } = {},
): Promise<BreakdownRow[]> {
  const J = data.itemIds.length
  const pop = new Array<number>(J).fill(0)
  for (const items of data.train) for (const j of items) pop[j]++
  const target = split === 'val' ? data.val : data.test
  const users = data.train.map((_, u) => u).filter((u) => target[u].length > 0)
  const nh = HISTORY_EDGES.length
  const np = POPULARITY_EDGES.length
  const histUsers = new Array<number>(nh).fill(0)
  const popItems = new Array<number>(np).fill(0)
  for (const u of users) {
    histUsers[groupOf(HISTORY_EDGES, data.train[u].length)]++
    for (const j of target[u]) popItems[groupOf(POPULARITY_EDGES, pop[j])]++
  }
  const sums = models.map(() => ({ hist: new Array<number>(nh).fill(0), pop: new Array<number>(np).fill(0) }))
  const batch = opts.batchSize ?? 256
  opts.onProgress?.(0, users.length)
  for (let s = 0; s < users.length; s += batch) {
    opts.signal?.throwIfAborted()
    const chunk = users.slice(s, s + batch)
    const excluded = chunk.map((u) => excludedItems(data, u, split))
    for (let m = 0; m < models.length; m++) {
      const scores = await models[m].scorer.scoreUsers(chunk)
      const ranked = topKBatch(scores, chunk.length, J, 20, (r) => excluded[r])
      for (let r = 0; r < chunk.length; r++) {
        const u = chunk[r]
        const relevant = new Set(target[u])
        sums[m].hist[groupOf(HISTORY_EDGES, data.train[u].length)] += recallAtK(
          hitVector(ranked[r], relevant),
          relevant.size,
          20,
        )
        const top = new Set(ranked[r])
        for (const j of relevant) if (top.has(j)) sums[m].pop[groupOf(POPULARITY_EDGES, pop[j])]++
      }
    }
    opts.onProgress?.(s + chunk.length, users.length)
  }
  const row = (axis: BreakdownRow['axis'], group: string, count: number, sum: (m: number) => number) => ({
    axis,
    group,
    count,
    values: Object.fromEntries(models.map((md, m) => [md.name, count ? sum(m) / count : NaN])),
  })
  const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
  return [
    // The overall Recall@20, the user-weighted mean of the history groups (what evaluate() reports).
    row('history', 'all', users.length, (m) => total(sums[m].hist)),
    ...groupLabels(HISTORY_EDGES).map((group, g) =>
      row('history', group, histUsers[g], (m) => sums[m].hist[g]),
    ),
    ...groupLabels(POPULARITY_EDGES).map((group, g) =>
      row('popularity', group, popItems[g], (m) => sums[m].pop[g]),
    ),
  ]
}
