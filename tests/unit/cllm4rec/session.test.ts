import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../main/engine/backend'
import { resolveConfig } from '../../../main/engine/cllm4rec/config'
import { Cllm4recModel } from '../../../main/engine/cllm4rec/model'
import { Cllm4recSession } from '../../../main/engine/cllm4rec/session'
import { ExtendedTokenizer, SoftVocab } from '../../../main/engine/cllm4rec/vocab'
import { tinyBackbone, tinyData, VOCAB, WordTokenizer } from './fixtures'

let s: Cllm4recSession
const data = tinyData()

beforeAll(async () => {
  await initBackend('wasm')
  const vocab = new SoftVocab(VOCAB, 4, 6)
  s = new Cllm4recSession(
    new Cllm4recModel(tinyBackbone(), vocab, 0.02, 2),
    new ExtendedTokenizer(new WordTokenizer(), vocab),
    resolveConfig(),
    data,
    'none',
  )
})
afterAll(() => s.dispose())

describe('Cllm4recSession', () => {
  it('scores all items per user from one prompt; recommend excludes training items', async () => {
    const sc = await s.scoreUsers([0, 3])
    expect(sc.length).toBe(2 * 6)
    // log-softmax rows sum to 1 in probability
    expect([0, 1].map((r) => sc.slice(r * 6, r * 6 + 6).reduce((a, v) => a + Math.exp(v), 0))).toEqual([
      expect.closeTo(1, 5),
      expect.closeTo(1, 5),
    ])
    const recs = await s.recommend(0, 10)
    expect(recs.map((r) => r.item).sort()).toEqual([3, 4, 5])
    const content = await s.scoreUsersWith([0], 'content')
    expect(Array.from(content)).not.toEqual(Array.from(sc.slice(0, 6)))
  })

  it('nearest items by cosine, embeddings for PCA, greedy review generation; no leaks', async () => {
    await s.nearestItems(0, 3) // warm-up
    const n0 = tf.memory().numTensors
    const near = await s.nearestItems(2, 3, 'zc_item')
    expect(near).toHaveLength(3)
    expect(near.map((x) => x.item)).not.toContain(2)
    expect(near[0].similarity).toBeGreaterThanOrEqual(near[2].similarity)
    const e = await s.embeddings('zl_item')
    expect([e.rows, e.dim, e.data.length]).toEqual([6, 16, 96])
    const g = await s.generateReview(1, 4, 5)
    expect(g.prompt).toBe('<user_1> writes the following review for <item_4>:')
    expect(g.ids.length).toBe(5)
    expect(g.ids.every((id) => id < VOCAB)).toBe(true)
    await s.scoreUsers([1, 2])
    expect(tf.memory().numTensors).toBe(n0)
  })
})
