import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../main/engine/backend'
import { resolveConfig } from '../../../main/engine/cllm4rec/config'
import { buildRecExamples, batchRows, EpochRowCounts } from '../../../main/engine/cllm4rec/corpus'
import { collaborativeDoc, contentDoc, packBatch, packPrompts } from '../../../main/engine/cllm4rec/documents'
import { Cllm4recModel } from '../../../main/engine/cllm4rec/model'
import { DEFAULT_PROMPTS } from '../../../main/engine/cllm4rec/prompts'
import { ExtendedTokenizer, SoftVocab } from '../../../main/engine/cllm4rec/vocab'
import { Rng } from '../../../main/engine/train/rng'
import { tinyBackbone, tinyData, VOCAB, WordTokenizer } from './fixtures'

let model: Cllm4recModel
const vocab = new SoftVocab(VOCAB, 4, 6)
const tok = new ExtendedTokenizer(new WordTokenizer(), vocab)

beforeAll(async () => {
  await initBackend('wasm')
  model = new Cllm4recModel(tinyBackbone(), vocab, 0.02, 1)
})
afterAll(() => {
  model.backbone.dispose()
  model.dispose()
})

const snap = (v: tf.Variable) => Float32Array.from(v.dataSync() as Float32Array)
const moved = (a: Float32Array, v: tf.Variable) => {
  const b = v.dataSync()
  return a.some((x, i) => x !== b[i])
}

describe('Cllm4recModel', () => {
  it('embeds soft tokens from the chosen side and hard tokens from wte', () => {
    const x = model.embed(Int32Array.from([22, 0, 26 + 5]), 1, 3, 'content')
    const v = x.arraySync()[0]
    const zc = model.zcUser.arraySync() as number[][]
    const wte = model.backbone.wte.arraySync() as number[][]
    const zi = model.zcItem.arraySync() as number[][]
    v[0].forEach((a, c) => expect(a).toBeCloseTo(zc[0][c], 6))
    v[1].forEach((a, c) => expect(a).toBeCloseTo(wte[0][c], 6))
    v[2].forEach((a, c) => expect(a).toBeCloseTo(zi[5][c], 6))
    x.dispose()
  })

  it('L-step moves only z^l rows; C-step moves only z^c; the backbone stays frozen', () => {
    const doc = collaborativeDoc(tok, DEFAULT_PROMPTS, 1, [3, 0], { maxLength: 64 })
    const before = Object.fromEntries(Object.entries(model.tables()).map(([k, v]) => [k, snap(v)]))
    const wte = Float32Array.from(model.backbone.wte.dataSync() as Float32Array)
    const opt = tf.train.sgd(0.5)
    const rows = batchRows([doc], true)
    opt.minimize(
      () =>
        model
          .collabLoss(packBatch([doc], true))
          .add(model.mutualLoss('collab', rows.users, rows.items, 1, 1, 0.1, true)),
      false,
      model.vars('collab'),
    )
    expect(moved(before.zl_user, model.zlUser)).toBe(true)
    expect(moved(before.zl_item, model.zlItem)).toBe(true)
    expect(moved(before.zc_user, model.zcUser)).toBe(false)
    expect(moved(before.zc_item, model.zcItem)).toBe(false)
    // Only the user in the document moves among users (gather gradient is row-sparse).
    const zlU = model.zlUser.dataSync()
    const C = model.backbone.config.nEmbd
    for (const u of [0, 2, 3])
      expect(zlU.slice(u * C, (u + 1) * C)).toEqual(before.zl_user.slice(u * C, (u + 1) * C))
    const cdoc = contentDoc(tok, DEFAULT_PROMPTS, 'review', { user: 0, item: 0 }, 'great red lipstick.', {
      maxLength: 64,
    })
    const mid = Object.fromEntries(Object.entries(model.tables()).map(([k, v]) => [k, snap(v)]))
    const r2 = batchRows([cdoc], true)
    opt.minimize(
      () =>
        model
          .contentLoss(packBatch([cdoc], true))
          .add(model.mutualLoss('content', r2.users, r2.items, 1, 1, 0.1, true)),
      false,
      model.vars('content'),
    )
    expect(moved(mid.zc_user, model.zcUser)).toBe(true)
    expect(moved(mid.zc_item, model.zcItem)).toBe(true)
    expect(moved(mid.zl_user, model.zlUser)).toBe(false)
    expect(moved(mid.zl_item, model.zlItem)).toBe(false)
    expect(model.backbone.wte.dataSync()).toEqual(wte)
    opt.dispose()
  })

  it('mutual term gradient pulls z^l toward z^c with λc(z^l − z^c)/D (+ λl z^l)', () => {
    const [gU] = Object.values(
      tf.variableGrads(() => model.mutualLoss('collab', [2], [], 2, 1.5, 0.5, true), [model.zlUser]).grads,
    )
    const C = model.backbone.config.nEmbd
    const l = model.zlUser.dataSync().slice(2 * C, 3 * C)
    const c = model.zcUser.dataSync().slice(2 * C, 3 * C)
    const g = gU.dataSync()
    for (let k = 0; k < C; k++) expect(g[2 * C + k]).toBeCloseTo((1.5 * (l[k] - c[k]) + 0.5 * l[k]) / 2, 5)
    expect(g.slice(0, 2 * C).every((x) => x === 0)).toBe(true)
    gU.dispose()
  })

  it('official-sum is λc·Σ‖z^l − z^c‖² with no ½: twice the per-doc value times the documents', () => {
    const a = model.mutualLoss('content', [0, 1], [2], 4, 1, 0, true)
    const b = model.mutualLoss('content', [0, 1], [2], 4, 1, 0, false)
    expect(b.dataSync()[0]).toBeCloseTo(2 * 4 * a.dataSync()[0], 6)
    const sq = (l: tf.Variable, c: tf.Variable, rows: number[]) =>
      tf.tidy(() => {
        const i = tf.tensor1d(rows, 'int32')
        return tf.gather(l, i).sub(tf.gather(c, i)).square().sum().dataSync()[0]
      })
    const direct = sq(model.zlUser, model.zcUser, [0, 1]) + sq(model.zlItem, model.zcItem, [2])
    expect(b.dataSync()[0]).toBeCloseTo(direct, 6)
    tf.dispose([a, b])
  })

  it("per-epoch weights scale each row's mutual term and prior: a weight 1/k is that row's term / k", () => {
    // Epoch of three batches: user 0 sits in all three, user 1 in one; item 2 in all three, item 3 in one.
    const counts = new EpochRowCounts([
      [{ users: [0], items: [2] }],
      [{ users: [0, 1], items: [2, 3] }],
      [
        { users: [0], items: [] },
        { users: [0], items: [2] },
      ],
    ])
    const w = counts.weights({ users: [0, 1], items: [2, 3] })
    expect([...w.users]).toEqual([Math.fround(1 / 3), 1])
    expect([...w.items]).toEqual([Math.fround(1 / 3), 1])
    expect(() => counts.weights({ users: [2], items: [] })).toThrow(/user 2 is in no batch of this epoch/)
    const one = (users: number[], items: number[]) =>
      tf.tidy(() => model.mutualLoss('collab', users, items, 4, 1.5, 0.5, true).dataSync()[0])
    const weighted = tf.tidy(
      () => model.mutualLoss('collab', [0, 1], [2, 3], 4, 1.5, 0.5, true, w).dataSync()[0],
    )
    const expected = one([0], []) / 3 + one([1], []) + one([], [2]) / 3 + one([], [3])
    expect(weighted).toBeCloseTo(expected, 6)
    expect(weighted).toBeLessThan(one([0, 1], [2, 3]) - 1e-6)
  })

  it('RecLLM loss is the multinomial NLL of the targets under the item softmax', () => {
    const p = packPrompts([tok.encode('<user_0> has interacted with <item_1>, the user will interact with')])
    const loss = model.recLoss(p, [[2, 4]])
    const h = model.hiddenAt(p.inputs, p.B, p.T, 'collab', p.last)
    const logp = tf.logSoftmax(model.itemLogits(h)).dataSync()
    expect(loss.dataSync()[0]).toBeCloseTo(-(logp[2] + logp[4]), 5)
    tf.dispose([loss, h])
  })

  it('shape-bucket padding leaves the L, C and RecLLM losses unchanged', () => {
    const shape = { bucket: 16, maxT: 64 }
    const docs = [
      collaborativeDoc(tok, DEFAULT_PROMPTS, 1, [3, 0], { maxLength: 64 }),
      collaborativeDoc(tok, DEFAULT_PROMPTS, 2, [5], { maxLength: 64 }),
    ]
    const cdocs = [contentDoc(tok, DEFAULT_PROMPTS, 'itemText', { item: 4 }, 'soft brush', { maxLength: 64 })]
    const ex = buildRecExamples(tinyData(), tok, resolveConfig(), new Rng(1), 64)
    const both = (f: (s?: typeof shape) => tf.Scalar) =>
      tf.tidy(() => [f().dataSync()[0], f(shape).dataSync()[0]])
    const [l0, l1] = both((s) => model.collabLoss(packBatch(docs, true, s)))
    const [c0, c1] = both((s) => model.contentLoss(packBatch(cdocs, true, s)))
    const targets = ex.map((e) => e.targets)
    const [r0, r1] = both((s) =>
      model.recLoss(
        packPrompts(
          ex.map((e) => e.prompt),
          s,
        ),
        targets,
      ),
    )
    expect(l1).toBeCloseTo(l0, 6)
    expect(c1).toBeCloseTo(c0, 6)
    expect(r1).toBeCloseTo(r0, 6)
    expect(packBatch(docs, true, shape).T).toBe(16)
  })

  it('alternating steps leak no tensors', () => {
    const cfg = resolveConfig()
    const docs = [collaborativeDoc(tok, DEFAULT_PROMPTS, 1, [3, 0], { maxLength: 64 })]
    const cdocs = [contentDoc(tok, DEFAULT_PROMPTS, 'itemText', { item: 4 }, 'soft brush', { maxLength: 64 })]
    const optL = tf.train.adam(1e-3)
    const optC = tf.train.adam(1e-3)
    const round = () => {
      const r = batchRows(docs, true)
      optL.minimize(
        () =>
          model
            .collabLoss(packBatch(docs, true))
            .add(model.mutualLoss('collab', r.users, r.items, 1, 1, 0.01, true)),
        false,
        model.vars('collab'),
      )
      const r2 = batchRows(cdocs, true)
      optC.minimize(
        () =>
          model
            .contentLoss(packBatch(cdocs, true))
            .add(model.mutualLoss('content', r2.users, r2.items, 1, 1, 0, true)),
        false,
        model.vars('content'),
      )
      const ex = buildRecExamples(tinyData(), tok, cfg, new Rng(1), 64)
      const p = packPrompts(ex.map((e) => e.prompt))
      optL.minimize(
        () =>
          model.recLoss(
            p,
            ex.map((e) => e.targets),
          ),
        false,
        model.vars('collab'),
      )
    }
    round() // warm-up creates the optimizer moments
    const n = tf.memory().numTensors
    for (let i = 0; i < 3; i++) round()
    expect(tf.memory().numTensors).toBe(n)
    optL.dispose()
    optC.dispose()
  })
})

describe('masked prompting', () => {
  it('hides max(1, int(p_m n)) items per user (int, not round), prompt = the rest, never both', () => {
    const data = tinyData()
    const ex = buildRecExamples(data, tok, resolveConfig('paper', { maskFraction: 0.5 }), new Rng(4), 64)
    expect(ex.map((e) => e.user)).toEqual([0, 1, 2, 3])
    // n = 3 tells int (1) from round (2)
    expect(ex[0].targets.length).toBe(1)
    for (const e of ex) {
      const items = data.train[e.user]
      expect(e.targets.length).toBe(Math.max(1, Math.floor(0.5 * items.length)))
      expect([...e.targets, ...e.promptItems].sort()).toEqual([...items].sort())
      const promptItems = e.prompt.filter((id) => vocab.kind(id) === 'item').map((id) => vocab.index(id))
      expect(promptItems).toEqual(e.promptItems)
    }
    const again = buildRecExamples(data, tok, resolveConfig('paper', { maskFraction: 0.5 }), new Rng(5), 64)
    expect(again.map((e) => e.targets)).not.toEqual(ex.map((e) => e.targets))
  })

  it('official preset hides max(1, int(0.2 n)) items from a shuffled prompt and targets all of them', () => {
    const data = tinyData()
    // users with 5 and 10 items: 1 and 2 hidden at p_m 0.2
    data.train = [[0, 1, 2, 3, 4], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [3], []]
    const vocab = new SoftVocab(VOCAB, 4, 10)
    const tok = new ExtendedTokenizer(new WordTokenizer(), vocab)
    const ex = buildRecExamples(data, tok, resolveConfig('official'), new Rng(4), 64)
    expect(ex.map((e) => e.user)).toEqual([0, 1, 2])
    ex.forEach((e) => {
      const items = data.train[e.user]
      expect(e.targets).toEqual(items)
      const promptItems = e.prompt.filter((id) => vocab.kind(id) === 'item').map((id) => vocab.index(id))
      expect(promptItems).toEqual(e.promptItems)
      expect(promptItems.length).toBe(items.length - Math.max(1, Math.floor(0.2 * items.length)))
      promptItems.forEach((j) => expect(items).toContain(j))
    })
    // the prompt never shows every item (the RecLLM could otherwise learn to copy it)
    expect(ex[1].promptItems.length).toBe(8)
    const orders = new Set(
      [1, 2, 3, 4, 5].map((s) =>
        buildRecExamples(data, tok, resolveConfig('official'), new Rng(s), 64)[1].promptItems.join(),
      ),
    )
    expect(orders.size).toBeGreaterThan(1)
  })

  it('binomial maskCount hides each item with probability p_m: a short history is sometimes whole', () => {
    const data = tinyData()
    data.train = [[0, 1], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [3], []]
    const vocab = new SoftVocab(VOCAB, 4, 10)
    const tok = new ExtendedTokenizer(new WordTokenizer(), vocab)
    const count = (target: 'all' | 'masked', seeds: number) => {
      const cfg = resolveConfig('fast', { maskCount: 'binomial', maskFraction: 0.2, finetuneTarget: target })
      const hidden = new Map<number, number[]>()
      const rng = new Rng(7)
      for (let s = 0; s < seeds; s++)
        for (const e of buildRecExamples(data, tok, cfg, rng, 64)) {
          const items = data.train[e.user]
          // the prompt shows distinct items of the history, never a hidden one
          expect(new Set(e.promptItems).size).toBe(e.promptItems.length)
          e.promptItems.forEach((j) => expect(items).toContain(j))
          if (target === 'all') expect(e.targets).toEqual(items)
          else expect([...e.targets, ...e.promptItems].sort()).toEqual([...items].sort())
          hidden.set(e.user, [...(hidden.get(e.user) ?? []), items.length - e.promptItems.length])
        }
      return hidden
    }
    const all = count('all', 400)
    // the one-item user sees its item about 80% of the passes (fixed: never)
    const whole = all.get(2)!.filter((k) => k === 0).length / 400
    expect(whole).toBeGreaterThan(0.7)
    expect(whole).toBeLessThan(0.9)
    const mean10 = all.get(1)!.reduce((a, b) => a + b, 0) / 400
    expect(mean10).toBeGreaterThan(1.8)
    expect(mean10).toBeLessThan(2.2)
    expect(new Set(all.get(1)).size).toBeGreaterThan(2)
    // the paper's target keeps at least one hidden and one visible item
    const masked = count('masked', 100)
    expect(masked.has(2)).toBe(false)
    for (const k of masked.get(0)!) expect(k).toBe(1)
    for (const k of masked.get(1)!) expect(k).toBeGreaterThanOrEqual(1)
  })
})
