// GPT-2 forward against an independent float64 reference on the real tiny-gpt2 checkpoint, plus KV
// cache, causality, gradients to the input embeddings, generation and tensor-leak checks.
import * as tf from '@tensorflow/tfjs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../main/engine/backend'
import { generateGreedy } from '../../../main/engine/gpt2/generate'
import { disposeCache, Gpt2, loadGpt2, type KvCache } from '../../../main/engine/gpt2/model'
import type { Gpt2Tokenizer } from '../../../main/engine/gpt2/tokenizer'
import { readF32Safetensors, referenceLogits, type RefWeights } from './reference'

const TINY = path.resolve(__dirname, '../../../../shared/data/tiny-gpt2')

let model: Gpt2
let tokenizer: Gpt2Tokenizer
let ref: RefWeights

beforeAll(async () => {
  await initBackend('wasm')
  ;({ model, tokenizer } = await loadGpt2(TINY))
  ref = readF32Safetensors(path.join(TINY, 'model.safetensors'))
})

function logitsOf(m: Gpt2, ids: number[][]): number[][][] {
  return tf.tidy(() => {
    const x = m.embedTokens(tf.tensor2d(ids, undefined, 'int32'))
    const { hidden } = m.forwardEmbeds(x)
    const [B, T, C] = hidden.shape
    const lg = m.logits(hidden.reshape([B * T, C]) as tf.Tensor2D).reshape([B, T, -1])
    return lg.arraySync() as number[][][]
  })
}

function expectNear(a: number[], b: number[], rel = 1e-5, abs = 1e-6): void {
  expect(a.length).toBe(b.length)
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) - rel * Math.abs(b[i]))
  expect(worst).toBeLessThanOrEqual(abs)
}

describe('GPT-2 forward on tiny-gpt2', () => {
  const texts = [
    'Hello world',
    'This is a test of the forward pass.',
    'user has interacted with item 42 and 7',
  ]

  it('matches the float64 reference to float32 precision, every position and the whole vocabulary', () => {
    for (const text of texts) {
      const ids = tokenizer.encode(text)
      const ours = logitsOf(model, [ids])[0]
      const theirs = referenceLogits(ref, { nLayer: 2, nHead: 2, eps: 1e-5 }, ids)
      expect(ours.length).toBe(ids.length)
      for (let t = 0; t < ids.length; t++) expectNear(ours[t], theirs[t])
      // The logits are not trivially flat: the check compares real variation.
      expect(Math.max(...theirs[ids.length - 1]) - Math.min(...theirs[ids.length - 1])).toBeGreaterThan(1e-3)
    }
  })

  it('batched rows equal single rows', () => {
    const a = tokenizer.encode('one two three four')
    const b = tokenizer.encode('five six seven eight')
    expect(a.length).toBe(b.length)
    const both = logitsOf(model, [a, b])
    expectNear(both[1].flat(), logitsOf(model, [b])[0].flat())
  })

  it('KV cache: prompt then token by token equals one full pass', () => {
    const ids = tokenizer.encode('The cache must not change any result at all')
    const full = logitsOf(model, [ids])[0]
    const stepwise: number[][] = []
    let cache: KvCache | undefined
    const chunks = [ids.slice(0, 3), ...ids.slice(3).map((i) => [i])]
    for (const chunk of chunks) {
      const x = tf.tidy(() => model.embedTokens(tf.tensor2d([chunk], undefined, 'int32')))
      const r = model.forwardEmbeds(x, { past: cache, returnCache: true })
      x.dispose()
      disposeCache(cache)
      cache = r.cache
      const lg = tf.tidy(() => model.logits(r.hidden.reshape([chunk.length, -1]) as tf.Tensor2D).arraySync())
      r.hidden.dispose()
      stepwise.push(...lg)
    }
    expect(cache?.length).toBe(ids.length)
    disposeCache(cache)
    for (let t = 0; t < ids.length; t++) expectNear(stepwise[t], full[t])
  })

  it('is causal: changing a later token leaves earlier logits unchanged and changes later ones', () => {
    const a = tokenizer.encode('alpha beta gamma delta')
    const b = [...a.slice(0, 2), 1000, a[3]]
    const la = logitsOf(model, [a])[0]
    const lb = logitsOf(model, [b])[0]
    expectNear(la[0], lb[0], 0, 0)
    expectNear(la[1], lb[1], 0, 0)
    expect(Math.max(...la[3].map((v, i) => Math.abs(v - lb[3][i])))).toBeGreaterThan(1e-6)
  })

  it('passes gradients to the input embeddings (finite differences) with the backbone frozen', () => {
    // A random 8-wide model: tiny-gpt2's 2-wide LayerNorm is nearly a sign function, useless for
    // finite differences.
    const m = Gpt2.random(
      { vocabSize: 30, nPositions: 8, nEmbd: 8, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 },
      5,
    )
    const base = tf.randomNormal([1, 4, 8], 0, 1, 'float32', 11) as tf.Tensor3D
    const w = tf.randomNormal([4, 30], 0, 1, 'float32', 3)
    const loss = (x: tf.Tensor3D) => {
      const { hidden } = m.forwardEmbeds(x)
      return m
        .logits(hidden.reshape([4, 8]) as tf.Tensor2D)
        .mul(w)
        .sum() as tf.Scalar
    }
    const g = tf.tidy(
      () =>
        tf
          .grad((x: tf.Tensor) => loss(x as tf.Tensor3D))(base)
          .arraySync() as number[][][],
    )
    const eps = 1e-2
    const fd = (t: number, c: number) =>
      tf.tidy(() => {
        const d = tf.buffer([1, 4, 8])
        d.set(eps, 0, t, c)
        const plus = loss(base.add(d.toTensor()) as tf.Tensor3D).dataSync()[0]
        const minus = loss(base.sub(d.toTensor()) as tf.Tensor3D).dataSync()[0]
        return (plus - minus) / (2 * eps)
      })
    for (const [t, c] of [
      [0, 0],
      [1, 5],
      [3, 7],
      [2, 2],
    ]) {
      const numeric = fd(t, c)
      expect(Math.abs(g[0][t][c] - numeric)).toBeLessThan(2e-2 * (1 + Math.abs(numeric)))
    }
    expect(Math.abs(g[0][0][0])).toBeGreaterThan(1e-4)
    expect(m.trainableWeights()).toEqual([])
    tf.dispose([base, w])
    m.dispose()
  })

  it('generates greedily with the cache, identical to argmax of full passes', async () => {
    const prompt = tokenizer.encode('Once upon a time')
    const out = await generateGreedy(model, prompt, { maxNewTokens: 5 })
    expect(out.length).toBe(5)
    const seq = [...prompt]
    for (let i = 0; i < 5; i++) {
      const last = logitsOf(model, [seq])[0][seq.length - 1]
      seq.push(last.indexOf(Math.max(...last)))
    }
    expect(out).toEqual(seq.slice(prompt.length))
    await expect(generateGreedy(model, [60000], { maxNewTokens: 1 })).rejects.toThrow(
      /outside the vocabulary/,
    )
  })

  it('leaks no tensors in inference, generation, or a frozen-backbone gradient step', async () => {
    const ids = tokenizer.encode('no leaks please')
    const soft = tf.variable(tf.randomNormal([1, ids.length, 2], 0, 0.02, 'float32', 1))
    const opt: tf.Optimizer = tf.train.adam(1e-3)
    const work = async () => {
      logitsOf(model, [ids])
      await generateGreedy(model, ids, { maxNewTokens: 3 })
      const { value, grads } = tf.variableGrads(() => {
        const { hidden } = model.forwardEmbeds(soft as unknown as tf.Tensor3D)
        return model
          .logits(hidden.reshape([ids.length, 2]) as tf.Tensor2D)
          .logSoftmax()
          .mean() as tf.Scalar
      }, [soft])
      opt.applyGradients(grads)
      tf.dispose([value, ...Object.values(grads)])
    }
    await work()
    const before = tf.memory().numTensors
    await work()
    await work()
    expect(tf.memory().numTensors).toBe(before)
    tf.dispose(soft)
    opt.dispose()
  })

  it('trains its own weights when built trainable (scratch), without leaks', () => {
    const cfg = { vocabSize: 50, nPositions: 16, nEmbd: 8, nLayer: 1, nHead: 2, layerNormEpsilon: 1e-5 }
    const m = Gpt2.random(cfg, 7, { trainable: true })
    const twin = Gpt2.random(cfg, 7, { trainable: true }) // two trainable models may coexist
    expect(m.trainableWeights().length).toBe(2 + 12 + 2)
    twin.dispose()
    const opt: tf.Optimizer = tf.train.adam(1e-2)
    const ids = tf.tensor2d([[1, 2, 3, 4, 5, 6]], undefined, 'int32')
    const step = () =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const { hidden } = m.forwardEmbeds(m.embedTokens(ids))
          const lg = m.logits(hidden.reshape([6, 8]) as tf.Tensor2D)
          return tf.losses.softmaxCrossEntropy(
            tf.oneHot(tf.tensor1d([2, 3, 4, 5, 6, 7], 'int32'), 50),
            lg,
          ) as tf.Scalar
        }, m.trainableWeights())
        opt.applyGradients(grads)
        return value.dataSync()[0]
      })
    const first = step()
    const before = tf.memory().numTensors
    let last = first
    for (let i = 0; i < 20; i++) last = step()
    expect(tf.memory().numTensors).toBe(before)
    expect(last).toBeLessThan(first * 0.7)
    m.dispose()
    ids.dispose()
    opt.dispose()
  })
})
