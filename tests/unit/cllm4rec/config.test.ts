import { describe, expect, it } from 'vitest'
import { configFields } from '../../../main/api/config-schema'
import {
  CONFIG_ENUMS,
  DEFAULT_CONFIG,
  finetuneLr,
  resolveConfig,
  scaledEpochs,
} from '../../../main/engine/cllm4rec/config'

describe('resolveConfig', () => {
  it('applies preset then overrides, and freezes the result', () => {
    const c = resolveConfig('official', { lambdaC: 0.5, scratch: { layers: 3 } })
    expect(c.reorderItems).toBe(false)
    expect(c.predictFirstMainToken).toBe(false)
    expect(c.finetuneTarget).toBe('all')
    expect(c.lambdaC).toBe(0.5)
    expect(c.scratch.layers).toBe(3)
    expect(c.scratch.width).toBe(64)
    expect(Object.isFrozen(c.scratch)).toBe(true)
    expect(resolveConfig().reorderItems).toBe(true)
  })

  it('rejects unknown keys, bad types, bad enums and out-of-range values', () => {
    expect(() => resolveConfig('paper', { lamdaC: 1 } as never)).toThrow(/unknown key "lamdaC"/)
    expect(() => resolveConfig('paper', { scratch: { depth: 2 } } as never)).toThrow(
      /unknown key "scratch.depth"/,
    )
    expect(() => resolveConfig('paper', { seed: '1' } as never)).toThrow(/"seed" must be a number/)
    expect(() => resolveConfig('paper', { finetuneTarget: 'some' } as never)).toThrow(/finetuneTarget/)
    expect(() => resolveConfig('paper', { maskFraction: 1 })).toThrow(/maskFraction/)
    expect(() => resolveConfig('paper', { batchSize: 0 })).toThrow(/batchSize/)
    expect(() => resolveConfig('paper', { lambdaC: null } as never)).toThrow(/may not be null/)
    expect(() => resolveConfig('paper', { prompts: { review: '{user} says' } })).toThrow(/prompts.review/)
    expect(() => resolveConfig('nope' as never)).toThrow(/unknown preset/)
    expect(resolveConfig('paper', { contentMainCap: null }).contentMainCap).toBeNull()
  })

  it('keeps the fast preset to schedule, batch, learning rates, λ_l, λ_c, backbone epochs and the official RecLLM target', () => {
    const fast = resolveConfig('fast', {})
    const paper = resolveConfig('paper', {})
    const changed = Object.keys(DEFAULT_CONFIG).filter(
      (k) => JSON.stringify(fast[k as keyof typeof fast]) !== JSON.stringify(paper[k as keyof typeof paper]),
    )
    expect(changed.sort()).toEqual(
      [
        'warmupEpochs',
        'rounds',
        'finetuneEpochs',
        'recEpochsPerContentEpoch',
        'evalEvery',
        'batchSize',
        'lrPretrain',
        'lrFinetune',
        'lrFinetuneSchedule',
        'lambdaL',
        'lambdaC',
        'finetuneTarget',
        'scratch',
      ].sort(),
    )
    // Of the backbone, only its training epochs: width, layers and vocabulary stay the paper's scratch.
    expect({ ...fast.scratch, epochs: paper.scratch.epochs }).toEqual(paper.scratch)
    // The target is the one the official preset uses, not a third behaviour.
    expect(fast.finetuneTarget).toBe(resolveConfig('official', {}).finetuneTarget)
    expect(fast.maskFraction).toBe(paper.maskFraction)
  })

  it('gives the finetuning rate of each epoch: constant, or cosine from lrFinetune towards 0', () => {
    const constant = resolveConfig('paper', { lrFinetune: 2e-3 })
    expect([0, 5, 9].map((e) => finetuneLr(constant, e, 10))).toEqual([2e-3, 2e-3, 2e-3])
    const cosine = resolveConfig('paper', { lrFinetune: 2e-3, lrFinetuneSchedule: 'cosine' })
    expect(finetuneLr(cosine, 0, 10)).toBe(2e-3)
    expect(finetuneLr(cosine, 5, 10)).toBeCloseTo(1e-3, 15)
    expect(finetuneLr(cosine, 9, 10)).toBeCloseTo(2e-3 * 0.5 * (1 + Math.cos(0.9 * Math.PI)), 15)
    expect(finetuneLr(cosine, 9, 10)).toBeGreaterThan(0)
    expect(() => resolveConfig('paper', { lrFinetuneSchedule: 'step' } as never)).toThrow(
      /lrFinetuneSchedule/,
    )
  })

  it('scales the schedule, keeping non-zero stages at >= 1 epoch', () => {
    expect(scaledEpochs(resolveConfig('paper', { epochsScale: 0.01 }))).toEqual({
      warmup: 1,
      rounds: 1,
      finetune: 2,
    })
    expect(scaledEpochs(resolveConfig('paper', { epochsScale: 0.1, warmupEpochs: 0 }))).toEqual({
      warmup: 0,
      rounds: 10,
      finetune: 15,
    })
  })
})

describe('per-stage schedules', () => {
  it('runs k L-epochs per round and a finetuning C-epoch after every m RecLLM epochs', async () => {
    const { planTasks } = await import('../../../main/engine/cllm4rec/schedule')
    const c = resolveConfig('paper', {
      warmupEpochs: 1,
      rounds: 2,
      finetuneEpochs: 5,
      collabEpochsPerRound: 3,
      recEpochsPerContentEpoch: 2,
    })
    const name = { content: 'C', collab: 'L', rec: 'R' } as const
    const kinds = planTasks(c).map((t) => `${name[t.kind]}${t.validate ? '*' : ''}`)
    // warm-up C; 2 x (3 L + 1 C); RecLLM 0..4 with a C after rec 1, rec 3 and the last one; every
    // RecLLM epoch validated (after its C-epoch when one follows).
    expect(kinds.join(' ')).toBe('C L L L C L L L C R* R C* R* R C* R C*')
  })
})

describe('settings form', () => {
  it('offers every string-valued key as a choice of exactly the values the engine accepts', () => {
    const enums = configFields().filter((f) => f.type === 'enum')
    expect(enums.map((f) => f.key).sort()).toEqual(Object.keys(CONFIG_ENUMS).sort())
    for (const f of enums) {
      expect(f.options).toEqual(CONFIG_ENUMS[f.key])
      expect(CONFIG_ENUMS[f.key]).toContain(f.default)
    }
  })
})
