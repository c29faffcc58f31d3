// The results table the CLI and the quality bench print: one line a model, then CLLM4Rec's ratios to the
// learned baselines, computed from the same rows.
import { describe, expect, it } from 'vitest'
import { formatTable, progressLine, ratioLines } from '../../../main/cli/train-commands'
import type { ResultRow } from '../../../main/engine/train/experiment'

const row = (model: string, r20: number, r40: number, ndcg: number): ResultRow => ({
  model,
  recall20: r20,
  recall40: r40,
  ndcg100: ndcg,
  note: '',
  seconds: 1,
})

describe('formatTable', () => {
  it('adds CLLM4Rec / Mult-VAE and / EASE ratios, not one to popularity', () => {
    const rows = [
      row('CLLM4Rec', 0.1584, 0.2131, 0.1048),
      row('Popularity', 0.0407, 0.0704, 0.0302),
      row('EASE', 0.1781, 0.2263, 0.1185),
      row('Mult-VAE', 0.163, 0.213, 0.107),
    ]
    expect(ratioLines(rows)).toEqual([
      'CLLM4Rec / EASE: R@20 0.89, R@40 0.94, NDCG@100 0.88',
      'CLLM4Rec / Mult-VAE: R@20 0.97, R@40 1.00, NDCG@100 0.98',
    ])
    const text = formatTable(rows, 'beauty')
    expect(text.split('\n')[0]).toBe('beauty')
    expect(text.trimEnd().split('\n').slice(-2)).toEqual(ratioLines(rows))
  })

  it('prints no ratio without a CLLM4Rec row, and n/a against a zero baseline', () => {
    expect(ratioLines([row('EASE', 0.2, 0.3, 0.1)])).toEqual([])
    expect(ratioLines([row('CLLM4Rec', 0.1, 0.2, 0.1), row('EASE', 0, 0.3, 0.1)])).toEqual([
      'CLLM4Rec / EASE: R@20 n/a, R@40 0.67, NDCG@100 1.00',
    ])
  })
})

describe('progressLine', () => {
  it("names the stage's epoch and labels the ETA and fraction as the whole run's", () => {
    const e = { stage: 'backbone', epoch: 3, step: 300, totalSteps: 576, loss: 2.61234, tokensPerSec: 9457.4 }
    expect(progressLine({ ...e, etaSec: 2985, fraction: 0.0712 })).toBe(
      '[backbone ep 3] 300/576 loss 2.6123 9457 tok/s · run 7% ETA 49m45s',
    )
    expect(progressLine({ ...e, tokensPerSec: NaN, etaSec: Infinity })).toBe(
      '[backbone ep 3] 300/576 loss 2.6123 · run ETA ?',
    )
  })
})
