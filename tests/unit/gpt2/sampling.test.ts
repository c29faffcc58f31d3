// Next-token choice: greedy argmax, top-k with temperature from a seeded PRNG, argument checks.
import { describe, expect, it } from 'vitest'
import { sample, tokenPicker } from '../../../main/engine/gpt2/sampling'

const logits = Float32Array.from([0.1, 2, -1, 1.9, 0.5])

describe('token sampling', () => {
  it('is argmax without sampling', () => {
    expect(tokenPicker()(logits)).toBe(1)
  })
  it('keeps only the top-k tokens and inverts the tempered softmax', () => {
    const s = { temperature: 1, topK: 2, seed: 1 }
    // Two tokens: 1 (logit 2) and 3 (logit 1.9), p(1) = 1 / (1 + e^-0.1) ≈ 0.525.
    expect(sample(logits, s, 0.5)).toBe(1)
    expect(sample(logits, s, 0.53)).toBe(3)
    expect(sample(logits, s, 0.999)).toBe(3)
    // A tiny temperature puts all mass on the best token.
    expect(sample(logits, { temperature: 1e-3, topK: 0, seed: 1 }, 0.999)).toBe(1)
  })
  it('repeats itself for a seed and varies across seeds', () => {
    const draw = (seed: number) => {
      const pick = tokenPicker({ temperature: 2, topK: 0, seed })
      return Array.from({ length: 30 }, () => pick(logits))
    }
    expect(draw(4)).toEqual(draw(4))
    expect(draw(4)).not.toEqual(draw(5))
    expect(new Set(draw(4)).size).toBeGreaterThan(2)
  })
  it('names the bad field', () => {
    expect(() => tokenPicker({ temperature: 0, topK: 1, seed: 1 })).toThrow(/field temperature/)
    expect(() => tokenPicker({ temperature: 1, topK: -1, seed: 1 })).toThrow(/field topK/)
  })
})
