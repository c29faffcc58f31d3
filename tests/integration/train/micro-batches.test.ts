// A batch too large for memory is cut into micro-batches whose gradients are summed before one Adam
// step (trainer.ts microBatches): with dropout off, a run whose every batch is cut into single documents
// gives the same per-epoch losses, validation and tables as the uncut run.
import { afterEach, describe, expect, it } from 'vitest'
import { setStepBytesBudget } from '../../../main/engine/cllm4rec/trainer'
import { tinyRun } from './tiny-run'

function train(budget: number | undefined) {
  setStepBytesBudget(budget)
  return tinyRun()
}

afterEach(() => setStepBytesBudget(undefined))

describe('micro-batches', () => {
  it('cutting every batch into single documents changes neither losses nor tables', async () => {
    const whole = await train(undefined)
    const cut = await train(1) // any two documents exceed one byte: every part is one document
    expect(cut.history.map((h) => h.kind)).toEqual(whole.history.map((h) => h.kind))
    expect(whole.history.map((h) => h.kind)).toEqual(expect.arrayContaining(['content', 'collab', 'rec']))
    whole.history.forEach((h, i) => {
      expect(Number.isFinite(h.loss) && h.loss > 0).toBe(true)
      expect(Math.abs(cut.history[i].loss - h.loss)).toBeLessThan(1e-4 * h.loss)
      if (h.val) expect(cut.history[i].val?.recall20).toBeCloseTo(h.val.recall20, 6)
    })
    for (const [k, a] of Object.entries(whole.tables)) {
      const b = cut.tables[k]
      const diff = a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0)
      expect(diff).toBeLessThan(1e-4)
    }
  }, 300_000)
})
