// Fast partial top-K selection over a row-major Float32Array score matrix [B, J]: a size-K min-heap per
// row, O(J log K), with excluded items (training, and validation at test time) skipped, not sorted.

/** Indices of the K largest scores of one row, best first; ties broken by lower item id. */
export function topKRow(
  scores: Float32Array,
  offset: number,
  nItems: number,
  k: number,
  exclude?: ReadonlySet<number> | null,
): Int32Array {
  const heapIdx = new Int32Array(k)
  const heapVal = new Float32Array(k)
  let size = 0
  // "a worse than b" in heap order: lower score, or same score and higher id.
  const worse = (va: number, ia: number, vb: number, ib: number): boolean => va < vb || (va === vb && ia > ib)
  for (let j = 0; j < nItems; j++) {
    if (exclude && exclude.has(j)) continue
    const v = scores[offset + j]
    if (v !== v) continue // NaN never ranks
    if (size < k) {
      let c = size++
      while (c > 0) {
        const p = (c - 1) >> 1
        if (!worse(v, j, heapVal[p], heapIdx[p])) break
        heapVal[c] = heapVal[p]
        heapIdx[c] = heapIdx[p]
        c = p
      }
      heapVal[c] = v
      heapIdx[c] = j
    } else if (worse(heapVal[0], heapIdx[0], v, j)) {
      let c = 0
      for (;;) {
        const l = 2 * c + 1
        if (l >= size) break
        const r = l + 1
        const m = r < size && worse(heapVal[r], heapIdx[r], heapVal[l], heapIdx[l]) ? r : l
        if (!worse(heapVal[m], heapIdx[m], v, j)) break
        heapVal[c] = heapVal[m]
        heapIdx[c] = heapIdx[m]
        c = m
      }
      heapVal[c] = v
      heapIdx[c] = j
    }
  }
  const order = Array.from({ length: size }, (_, i) => i)
  order.sort((a, b) => (worse(heapVal[a], heapIdx[a], heapVal[b], heapIdx[b]) ? 1 : -1))
  return Int32Array.from(order, (i) => heapIdx[i])
}

/** Top-K for every row of a [B, J] score block. */
export function topKBatch(
  scores: Float32Array,
  rows: number,
  nItems: number,
  k: number,
  exclude: (row: number) => ReadonlySet<number> | null,
): Int32Array[] {
  if (scores.length < rows * nItems)
    throw new Error(`topKBatch: scores has ${scores.length} < ${rows}x${nItems}`)
  const out: Int32Array[] = []
  for (let r = 0; r < rows; r++) out.push(topKRow(scores, r * nItems, nItems, k, exclude(r)))
  return out
}
