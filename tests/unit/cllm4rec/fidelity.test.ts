// The six fidelity fixes of the quality review, each pinned by a test that failed before it:
// no validation/test review reaches training, no stray space before soft tokens (real GPT-2 BPE),
// official masking, official-sum strength (model.test.ts), seeded training-only dropout, and a seeded
// shuffled evaluation prompt.
import * as tf from '@tensorflow/tfjs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { preprocess } from '../../../main/data/preprocess'
import { RawData } from '../../../main/data/raw'
import { initBackend } from '../../../main/engine/backend'
import { resolveConfig, type ConfigOverrides } from '../../../main/engine/cllm4rec/config'
import { backboneTexts, buildContentDocs } from '../../../main/engine/cllm4rec/corpus'
import { collaborativeDoc, contentDoc, recommendationPrompt } from '../../../main/engine/cllm4rec/documents'
import { Cllm4recModel } from '../../../main/engine/cllm4rec/model'
import { DEFAULT_PROMPTS, OFFICIAL_PROMPTS } from '../../../main/engine/cllm4rec/prompts'
import { Cllm4recSession } from '../../../main/engine/cllm4rec/session'
import { ExtendedTokenizer, SoftVocab } from '../../../main/engine/cllm4rec/vocab'
import { parseHfConfig } from '../../../main/engine/gpt2/config'
import { Gpt2Tokenizer } from '../../../main/engine/gpt2/tokenizer'
import { tinyBackbone, tinyData, VOCAB, WordTokenizer } from './fixtures'

const TINY = path.resolve(__dirname, '../../../../shared/data/tiny-gpt2')

beforeAll(async () => {
  await initBackend('wasm')
})

describe('fix 1: only training reviews feed training', () => {
  // 12 users x 6 items, every pair reviewed; the review names its own split after preprocessing.
  function leakyDataset() {
    const raw = new RawData()
    for (let u = 0; u < 12; u++)
      for (let i = 0; i < 6; i++) raw.add(`u${u}`, `i${i}`, 5, u * 10 + i, `review of u${u} i${i}`)
    const { dataset } = preprocess(raw, { name: 'leak', split: [0.6, 0.2, 0.2], seed: 3 })
    return dataset
  }

  it('drops validation/test reviews at import and in every corpus, backbone text and tokenizer input', () => {
    const d = leakyDataset()
    const heldOut = new Set<string>()
    d.userIds.forEach((uid, u) => {
      for (const j of [...d.val[u], ...d.test[u]]) heldOut.add(`review of ${uid} ${d.itemIds[j]}`)
    })
    expect(heldOut.size).toBeGreaterThan(10)
    const texts = new Set(d.reviews.map((r) => r.text))
    for (const t of heldOut) expect(texts.has(t)).toBe(false)
    d.reviews.forEach((r) => expect(d.train[r.user]).toContain(r.item))
    expect(d.reviews.length).toBe(d.train.reduce((s, x) => s + x.length, 0))
  })

  it('filters a dataset stored before the fix (reviews of held-out pairs present) in documents and backbone text', () => {
    const d = tinyData()
    // user 0's val item is 3, test item 4: marker reviews on those pairs must never be used
    d.reviews = [
      ...d.reviews,
      { user: 0, item: 3, text: 'great MARKERVAL lipstick.' },
      { user: 0, item: 4, text: 'soft MARKERTEST brush.' },
    ]
    const bb = backboneTexts(d, DEFAULT_PROMPTS).join('\n')
    expect(bb).not.toMatch(/MARKER/)
    const vocab = new SoftVocab(VOCAB, 4, 6)
    const tok = new ExtendedTokenizer(new WordTokenizer(), vocab)
    // The word tokenizer throws on the unknown marker word: building the documents proves it is unused.
    const docs = buildContentDocs(d, tok, resolveConfig('paper'), 64).docs
    expect(docs.length).toBeGreaterThan(0)
    expect(docs.every((doc) => !doc.items.includes(3) || doc.users.length === 0)).toBe(true)
  })
})

describe('fix 2: no lone space token before a soft token (real GPT-2 BPE)', () => {
  const gpt = Gpt2Tokenizer.fromDir(TINY)
  const vocab = new SoftVocab(gpt.vocabSize, 3, 4)
  const tok = new ExtendedTokenizer(gpt, vocab)
  const U = (i: number) => gpt.vocabSize + i
  const I = (j: number) => gpt.vocabSize + 3 + j
  const SPACE = gpt.encode(' ')[0]

  it('RecLLM prompt: " with" then the item tokens, no " " in between', () => {
    const p = recommendationPrompt(tok, DEFAULT_PROMPTS, 1, [2, 0], 1024).ids
    expect(p).toEqual([
      U(1),
      ...gpt.encode(' has interacted with'),
      I(2),
      I(0),
      ...gpt.encode(', the user will interact with'),
    ])
    expect(p).not.toContain(SPACE)
    const o = recommendationPrompt(tok, OFFICIAL_PROMPTS, 1, [2], 1024).ids
    expect(o).toEqual([
      U(1),
      ...gpt.encode(' has interacted with'),
      I(2),
      ...gpt.encode(','),
      U(1),
      ...gpt.encode(' will interact with'),
    ])
  })

  it('collaborative and review documents follow the same rule', () => {
    const c = collaborativeDoc(tok, DEFAULT_PROMPTS, 0, [3, 1], { maxLength: 1024 })
    expect(c.ids).toEqual([U(0), ...gpt.encode(' has interacted with'), I(3), I(1)])
    const r = contentDoc(tok, DEFAULT_PROMPTS, 'review', { user: 2, item: 1 }, 'Nice.', { maxLength: 1024 })
    expect(r.ids).toEqual([
      U(2),
      ...gpt.encode(' writes the following review for'),
      I(1),
      ...gpt.encode(':'),
      ...gpt.encode(' Nice.'),
    ])
    expect(r.ids.slice(0, r.promptLength)).not.toContain(SPACE)
  })

  it('backbone phrases are spaced as the documents encode them', () => {
    const texts = backboneTexts(tinyData(), DEFAULT_PROMPTS)
    expect(texts).toContain(' has interacted with')
    expect(texts).not.toContain(' has interacted with ')
    expect(texts).toContain(' writes the following review for')
  })
})

describe('fix 5: GPT-2 dropout in training steps only, seeded', () => {
  const vocab = new SoftVocab(VOCAB, 4, 6)
  let model: Cllm4recModel
  beforeAll(() => {
    model = new Cllm4recModel(tinyBackbone(), vocab, 0.02, 1)
    model.dropoutRates = { embd: 0.1, attn: 0.1, resid: 0.1 }
  })
  afterAll(() => {
    model.backbone.dispose()
    model.dispose()
  })
  const inputs = Int32Array.from([22, 0, 1, 2, 26, 27, 28, 29])
  const rows = Int32Array.from([3, 4, 5, 6])
  const hidden = () => {
    const h = model.hiddenAt(inputs, 1, 8, 'collab', rows)
    const v = Float32Array.from(h.dataSync() as Float32Array)
    h.dispose()
    return v
  }
  const diff = (a: Float32Array, b: Float32Array) => Math.max(...a.map((x, i) => Math.abs(x - b[i])))

  it('is off outside a training step, changes the hidden states inside one, and repeats with a seed', () => {
    const evalA = hidden()
    const evalB = hidden()
    expect(diff(evalA, evalB)).toBe(0)
    model.setTrainingStep(7)
    const trainA = hidden()
    const trainA2 = hidden()
    model.setTrainingStep(8)
    const trainB = hidden()
    model.setTrainingStep(null)
    expect(diff(trainA, evalA)).toBeGreaterThan(1e-4)
    expect(diff(trainA, trainA2)).toBe(0)
    expect(diff(trainA, trainB)).toBeGreaterThan(1e-4)
    expect(diff(hidden(), evalA)).toBe(0)
  })

  it('leaves no tensor behind in a training step with dropout (forward and gradient)', () => {
    const opt = tf.train.adam(1e-3)
    const stepOnce = (seed: number) => {
      model.setTrainingStep(seed)
      opt.minimize(
        () => model.hiddenAt(inputs, 1, 8, 'collab', rows).square().mean() as tf.Scalar,
        false,
        model.vars('collab'),
      )
      model.setTrainingStep(null)
    }
    stepOnce(1) // creates the optimizer moments
    const n = tf.memory().numTensors
    for (let i = 2; i < 6; i++) stepOnce(i)
    expect(tf.memory().numTensors).toBe(n)
    opt.dispose()
  })

  it('reads embd/attn/resid_pdrop from config.json (0.1 when absent) and the config can override it', () => {
    const base = { vocab_size: 10, n_positions: 8, n_embd: 4, n_layer: 1, n_head: 1 }
    expect(parseHfConfig(base).dropout).toEqual({ embd: 0.1, attn: 0.1, resid: 0.1 })
    expect(parseHfConfig({ ...base, attn_pdrop: 0, resid_pdrop: 0.2 }).dropout).toEqual({
      embd: 0.1,
      attn: 0,
      resid: 0.2,
    })
    expect(() => parseHfConfig({ ...base, embd_pdrop: 1.5 })).toThrow(/embd_pdrop/)
    expect(resolveConfig('paper').dropout).toBeNull()
    expect(resolveConfig('paper', { dropout: 0 }).dropout).toBe(0)
    expect(() => resolveConfig('paper', { dropout: 1 })).toThrow(/dropout/)
  })
})

describe('fix 6: the evaluation prompt is a seeded shuffle of the history', () => {
  /** One tiny model shared by sessions of the given configs; every user has items 0..5. */
  const sessionsOn = (users: number, configs: ConfigOverrides[]) => {
    const d = tinyData()
    d.train = Array.from({ length: users }, () => [0, 1, 2, 3, 4, 5])
    const vocab = new SoftVocab(VOCAB, users, 6)
    const tok = new ExtendedTokenizer(new WordTokenizer(), vocab)
    const model = new Cllm4recModel(tinyBackbone(), vocab, 0.02, 1)
    const sessions = configs.map((c) => new Cllm4recSession(model, tok, resolveConfig('paper', c), d, ''))
    return { tok, model, sessions }
  }

  it('is a permutation, not ascending for most users, stable across calls, and seed-dependent', async () => {
    const {
      model,
      sessions: [s1, s2],
    } = sessionsOn(4, [{ seed: 1 }, { seed: 2 }])
    const orders = [0, 1, 2, 3].map((u) => s1.promptHistory(u))
    orders.forEach((o) => expect([...o].sort()).toEqual([0, 1, 2, 3, 4, 5]))
    expect(orders.filter((o) => o.join() !== '0,1,2,3,4,5').length).toBeGreaterThan(2)
    expect(s1.promptHistory(2)).toEqual(orders[2])
    expect([0, 1, 2, 3].map((u) => s2.promptHistory(u).join())).not.toEqual(orders.map((o) => o.join()))
    // scores do not depend on which other users share the batch
    const all = await s1.scoreUsers([0, 1, 2, 3])
    const one = await s1.scoreUsers([2])
    for (let j = 0; j < 6; j++) expect(one[j]).toBeCloseTo(all[2 * 6 + j], 5)
    model.backbone.dispose()
    model.dispose()
  })

  it('averages the log-softmax scores of evalPromptOrders seeded orders, order 0 being the single one', async () => {
    const {
      tok,
      model,
      sessions: [one, four],
    } = sessionsOn(3, [{}, { evalPromptOrders: 4 }])
    const user = 1
    const orders = [0, 1, 2, 3].map((k) => four.promptHistory(user, k))
    expect(orders[0]).toEqual(one.promptHistory(user))
    expect(new Set(orders.map((o) => o.join())).size).toBeGreaterThan(2)
    // one order's scores, straight through the model
    const scoresOf = async (history: number[]) => {
      const ids = recommendationPrompt(tok, four.config.prompts, user, history, four.maxLength).ids
      const t = tf.tidy(() => {
        const h = model.hiddenAt(Int32Array.from(ids), 1, ids.length, 'collab', Int32Array.of(ids.length - 1))
        return tf.logSoftmax(model.itemLogits(h, 'collab'))
      })
      const v = (await t.data()) as Float32Array
      t.dispose()
      return v
    }
    const each = await Promise.all(orders.map(scoresOf))
    const before = tf.memory().numTensors
    const averaged = await four.scoreUsers([user])
    expect(tf.memory().numTensors).toBe(before)
    const single = await one.scoreUsers([user])
    for (let j = 0; j < 6; j++) {
      expect(single[j]).toBeCloseTo(each[0][j], 5)
      expect(averaged[j]).toBeCloseTo(each.reduce((a, v) => a + v[j], 0) / 4, 5)
    }
    expect(Math.max(...Array.from(averaged, (v, j) => Math.abs(v - single[j])))).toBeGreaterThan(1e-4)
    expect(() => resolveConfig('paper', { evalPromptOrders: 0 })).toThrow(/evalPromptOrders/)
    model.backbone.dispose()
    model.dispose()
  })
})
