// The finetuning learning-rate schedule reaches the optimizers: a cosine run records the decayed rate of
// every finetuning task and trains differently from the constant run once the rate has moved, but not
// before (both start at lrFinetune, with the same seed and no dropout).
import { describe, expect, it } from 'vitest'
import { tinyRun } from './tiny-run'

describe('finetuning learning-rate schedule', () => {
  it('decays the RecLLM and content rates by cosine, epoch by epoch', async () => {
    const epochs = 4
    const constant = await tinyRun({
      finetuneEpochs: epochs,
      lrFinetune: 1e-2,
      lrFinetuneSchedule: 'constant',
    })
    const cosine = await tinyRun({ finetuneEpochs: epochs, lrFinetune: 1e-2, lrFinetuneSchedule: 'cosine' })
    const ft = (h: typeof constant.history) => h.filter((e) => e.stage === 'finetune')
    const rec = (h: typeof constant.history) => ft(h).filter((e) => e.kind === 'rec')

    expect(constant.history.filter((e) => e.stage !== 'finetune').every((e) => e.lr === undefined)).toBe(true)
    expect(ft(constant.history).map((e) => e.lr)).toEqual(ft(constant.history).map(() => 1e-2))
    const want = [1, 0.5 + 0.5 * Math.SQRT1_2, 0.5, 0.5 - 0.5 * Math.SQRT1_2].map((f) => 1e-2 * f)
    rec(cosine.history).forEach((e, i) => expect(e.lr).toBeCloseTo(want[i], 12))
    // The finetuning C-epoch after the last RecLLM epoch runs at that epoch's rate.
    const content = ft(cosine.history).filter((e) => e.kind === 'content')
    expect(content.map((e) => e.lr)).toEqual([rec(cosine.history)[epochs - 1].lr])

    const [c, k] = [rec(constant.history), rec(cosine.history)]
    expect(k[0].loss).toBe(c[0].loss)
    const later = c.slice(1).map((e, i) => Math.abs(e.loss - k[i + 1].loss))
    expect(Math.max(...later)).toBeGreaterThan(1e-4 * c[0].loss)
    // The content tables are not put back to a selected epoch: the last C-epoch's rate shows in them.
    const a = constant.tables.zc_item
    const b = cosine.tables.zc_item
    expect(a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0)).toBeGreaterThan(1e-5)
  }, 300_000)
})
