// 'per-epoch' mutual scaling weighs a row 1/k in each of the k batches of an epoch it sits in: with one
// batch an epoch every k is 1 and the run is the 'per-doc' run, to float rounding; with several batches
// the popular rows are tied less and the tables differ.
import { describe, expect, it } from 'vitest'
import { tinyRun } from './tiny-run'

const maxDiff = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0)

describe("'per-epoch' mutual scaling", () => {
  it("is the 'per-doc' run when an epoch is one batch, and differs when it is several", async () => {
    const one = { batchSize: 1000 }
    const perDoc = await tinyRun({ ...one, mutualScaling: 'per-doc' })
    const perEpoch = await tinyRun({ ...one, mutualScaling: 'per-epoch' })
    perDoc.history.forEach((h, i) =>
      expect(Math.abs(perEpoch.history[i].loss - h.loss)).toBeLessThan(1e-5 * h.loss),
    )
    for (const [k, a] of Object.entries(perDoc.tables))
      expect(maxDiff(a, perEpoch.tables[k])).toBeLessThan(1e-5)

    const several = await tinyRun({ mutualScaling: 'per-epoch' })
    const reference = await tinyRun({ mutualScaling: 'per-doc' })
    expect(several.history.every((h) => Number.isFinite(h.loss) && h.loss > 0)).toBe(true)
    expect(maxDiff(several.tables.zl_item, reference.tables.zl_item)).toBeGreaterThan(1e-4)
  }, 300_000)
})
