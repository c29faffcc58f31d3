// Ranking metrics of the CLLM4Rec protocol (CLLM4REC.md §7), as pure functions over a ranked list.
// Recall@K divides by min(K, |relevant|) (the paper's normalisation, so a perfect top-K scores 1 even
// when the user has more than K test items); NDCG@K uses IDCG over min(K, |relevant|) ideal hits.

/** Hit vector of a ranked list: hits[r] = 1 when ranked[r] is relevant. */
export function hitVector(ranked: ArrayLike<number>, relevant: ReadonlySet<number>): Uint8Array {
  const hits = new Uint8Array(ranked.length)
  for (let r = 0; r < ranked.length; r++) hits[r] = relevant.has(ranked[r]) ? 1 : 0
  return hits
}

/** Recall@K from a hit vector (rank order) and the number of relevant items. */
export function recallAtK(hits: ArrayLike<number>, nRelevant: number, k: number): number {
  if (nRelevant <= 0) throw new Error('recallAtK: nRelevant must be >= 1')
  let found = 0
  const n = Math.min(k, hits.length)
  for (let r = 0; r < n; r++) found += hits[r]
  return found / Math.min(k, nRelevant)
}

/** NDCG@K with binary relevance: DCG = sum rel_r / log2(r + 1), r 1-based. */
export function ndcgAtK(hits: ArrayLike<number>, nRelevant: number, k: number): number {
  if (nRelevant <= 0) throw new Error('ndcgAtK: nRelevant must be >= 1')
  let dcg = 0
  const n = Math.min(k, hits.length)
  for (let r = 0; r < n; r++) if (hits[r]) dcg += 1 / Math.log2(r + 2)
  let idcg = 0
  const ideal = Math.min(k, nRelevant)
  for (let r = 0; r < ideal; r++) idcg += 1 / Math.log2(r + 2)
  return dcg / idcg
}

/** The three numbers the paper reports, plus how many users were averaged. */
export interface RankingMetrics {
  recall20: number
  recall40: number
  ndcg100: number
  users: number
}

/** Model-selection score used on validation (CLLM4REC.md §6). */
export function selectionScore(m: Pick<RankingMetrics, 'recall20' | 'recall40' | 'ndcg100'>): number {
  return m.recall20 + m.recall40 + m.ndcg100
}

/** Accumulates per-user metrics; users without relevant items are skipped by the caller. */
export class MetricAccumulator {
  private r20 = 0
  private r40 = 0
  private n100 = 0
  private count = 0

  add(ranked: ArrayLike<number>, relevant: ReadonlySet<number>): void {
    const hits = hitVector(ranked, relevant)
    this.r20 += recallAtK(hits, relevant.size, 20)
    this.r40 += recallAtK(hits, relevant.size, 40)
    this.n100 += ndcgAtK(hits, relevant.size, 100)
    this.count++
  }

  result(): RankingMetrics {
    const c = Math.max(this.count, 1)
    return { recall20: this.r20 / c, recall40: this.r40 / c, ndcg100: this.n100 / c, users: this.count }
  }
}
