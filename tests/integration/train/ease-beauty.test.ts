// EASE on the CLLM4Rec authors' Amazon Beauty split reproduces the reference figure: test Recall@20
// 0.1768 with λ = 100 chosen on validation (tolerance ±0.005).
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { readCllm4recSplit } from '../../../main/data/cllm4rec-split'
import { fitEaseOnValidation } from '../../../main/engine/baselines/ease'
import { evaluate } from '../../../main/engine/eval/evaluate'

const dir = path.resolve(__dirname, '../../../../shared/data/amazon-cllm4rec/beauty')

describe('EASE on Amazon Beauty (CLLM4Rec split)', () => {
  it('selects λ on validation and reaches test Recall@20 = 0.177 ± 0.005', async () => {
    const data = readCllm4recSplit(dir)
    expect(data.userIds.length).toBe(10553)
    expect(data.itemIds.length).toBe(6086)
    expect(data.train.reduce((s, r) => s + r.length, 0)).toBe(70614)
    const sel = await fitEaseOnValidation(data, [30, 100, 300])
    expect(sel.lambda).toBe(100)
    const test = await evaluate(sel.model, data, 'test')
    expect(test.users).toBe(10553)
    expect(Math.abs(test.recall20 - 0.1768)).toBeLessThan(0.005)
  }, 1_200_000)
})
