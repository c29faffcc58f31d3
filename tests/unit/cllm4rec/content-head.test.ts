// Memory-bounded content head (CLLM4REC.md §4): the chunked custom-gradient CE must give the same loss and
// embedding gradients as the plain un-chunked formula, keep only one chunk's [n, V] logits alive at a time
// (forward and backward), and leak no tensors.
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../main/engine/backend'
import { contentDoc, packBatch, type PackedBatch } from '../../../main/engine/cllm4rec/documents'
import { Cllm4recModel } from '../../../main/engine/cllm4rec/model'
import { DEFAULT_PROMPTS } from '../../../main/engine/cllm4rec/prompts'
import { ExtendedTokenizer, SoftVocab } from '../../../main/engine/cllm4rec/vocab'
import { Gpt2 } from '../../../main/engine/gpt2/model'
import { Rng } from '../../../main/engine/train/rng'
import { tinyBackbone, VOCAB, WordTokenizer } from './fixtures'

beforeAll(async () => {
  await initBackend('wasm')
})

/** The straightforward formula: full [M, V] logits, log-softmax, mean NLL of the targets. */
function plainContentLoss(model: Cllm4recModel, batch: PackedBatch): tf.Scalar {
  return tf.tidy(() => {
    const V = model.backbone.config.vocabSize
    const h = model.hiddenAt(batch.inputs, batch.B, batch.T, 'content', batch.positions)
    const logp = tf.logSoftmax(tf.matMul(h, model.backbone.wte, false, true))
    const flat = Int32Array.from(batch.targets, (w, m) => m * V + w)
    return tf
      .gather(logp.reshape([-1]), tf.tensor1d(flat, 'int32'))
      .mean()
      .neg() as tf.Scalar
  })
}

function lossAndGrads(model: Cllm4recModel, f: () => tf.Scalar) {
  const { value, grads } = tf.variableGrads(f, model.vars('content'))
  const out = {
    loss: value.dataSync()[0],
    grads: Object.fromEntries(
      Object.entries(grads).map(([k, g]) => [k, Float32Array.from(g.dataSync() as Float32Array)]),
    ),
  }
  tf.dispose([value, ...Object.values(grads)])
  return out
}

describe('chunked content head', () => {
  const vocab = new SoftVocab(VOCAB, 4, 6)
  const tok = new ExtendedTokenizer(new WordTokenizer(), vocab)
  let model: Cllm4recModel
  beforeAll(() => {
    model = new Cllm4recModel(tinyBackbone(5), vocab, 0.5, 2)
  })
  afterAll(() => {
    model.backbone.dispose()
    model.dispose()
  })

  it('matches the un-chunked loss and gradients wrt z^c (chunks of 1, 3 and all rows)', () => {
    const docs = [
      contentDoc(tok, DEFAULT_PROMPTS, 'review', { user: 0, item: 0 }, 'great red lipstick.', {
        maxLength: 64,
      }),
      contentDoc(tok, DEFAULT_PROMPTS, 'itemText', { item: 4 }, 'soft brush, great red brush.', {
        maxLength: 64,
      }),
      contentDoc(tok, DEFAULT_PROMPTS, 'review', { user: 3, item: 2 }, 'soft lipstick.', { maxLength: 64 }),
    ]
    const batch = packBatch(docs, true)
    expect(batch.positions.length).toBeGreaterThan(6)
    const ref = lossAndGrads(model, () => plainContentLoss(model, batch))
    expect(Object.keys(ref.grads).length).toBe(2)
    for (const rows of [1, 3, 1000]) {
      model.headChunkFloats = rows * VOCAB
      const got = lossAndGrads(model, () => model.contentLoss(batch))
      expect(Math.abs(got.loss - ref.loss)).toBeLessThan(1e-5)
      for (const [k, g] of Object.entries(ref.grads)) {
        const maxAbs = g.reduce((a, x) => Math.max(a, Math.abs(x)), 0)
        expect(maxAbs).toBeGreaterThan(1e-4) // the gradient is not trivially zero
        if (rows === 1) process.stdout.write(`grad ${k}: max |g| ${maxAbs.toExponential(2)}\n`)
        let err = 0
        got.grads[k].forEach((x, i) => (err = Math.max(err, Math.abs(x - g[i]))))
        expect(err).toBeLessThan(1e-5 * Math.max(1, maxAbs))
        expect(err).toBeLessThan(1e-4 * maxAbs) // relative: observed ~2e-7
      }
    }
  })

  it('produces no gradient for the frozen wte and leaks no tensors over repeated steps', () => {
    model.headChunkFloats = 2 * VOCAB
    const batch = packBatch(
      [
        contentDoc(tok, DEFAULT_PROMPTS, 'itemText', { item: 1 }, 'red lipstick, soft brush.', {
          maxLength: 64,
        }),
      ],
      true,
    )
    const opt = tf.train.adam(0.01)
    const wte = Float32Array.from(model.backbone.wte.dataSync() as Float32Array)
    const step = () => opt.minimize(() => model.contentLoss(batch), true, model.vars('content'))?.dispose()
    step() // creates the optimizer slots
    const before = tf.memory().numTensors
    for (let i = 0; i < 3; i++) step()
    expect(tf.memory().numTensors).toBe(before)
    expect(model.backbone.wte.dataSync()).toEqual(wte)
    opt.dispose()
  })
})

/** Bytes the tape holds for the backbone alone on this batch (whatever the head). */
function backboneTapeBytes(model: Cllm4recModel, batch: PackedBatch, side: 'content' | 'collab'): number {
  const base = tf.memory().numBytes
  let bytes = 0
  tf.dispose(
    tf.variableGrads(() => {
      const h = model.hiddenAt(batch.inputs, batch.B, batch.T, side, batch.positions)
      bytes = tf.memory().numBytes - base
      return h.sum() as tf.Scalar
    }, model.vars(side)),
  )
  return bytes
}

/** B documents of T tokens (token(b, t)); every position from 1 to T − 2 predicts the next token. */
function nextTokenBatch(B: number, T: number, token: (b: number, t: number) => number): PackedBatch {
  const inputs = new Int32Array(B * T)
  const positions: number[] = []
  const targets: number[] = []
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) inputs[b * T + t] = token(b, t)
    for (let t = 1; t < T - 1; t++) {
      positions.push(b * T + t)
      targets.push(inputs[b * T + t + 1])
    }
  }
  return { inputs, B, T, positions: Int32Array.from(positions), targets: Int32Array.from(targets) }
}

describe('content head memory', () => {
  it('one content step at V = 20000 peaks far below the full [M, V] logits', () => {
    const V = 20000
    const backbone = Gpt2.random(
      { vocabSize: V, nPositions: 256, nEmbd: 16, nLayer: 1, nHead: 2, layerNormEpsilon: 1e-5 },
      7,
    )
    const vocab = new SoftVocab(V, 3, 3)
    const model = new Cllm4recModel(backbone, vocab, 0.02, 1)
    // 24 short documents x 50 tokens, mostly words: M = 1152 main-text targets. Short documents keep the
    // backbone's own taped activations (attention is [B, H, T, T]) small next to the head.
    const rng = new Rng(3)
    // A user token, an item token, then words.
    const batch = nextTokenBatch(24, 50, (b, t) =>
      t === 0 ? V + (b % 3) : t === 1 ? V + 3 + (b % 3) : Math.floor(rng.next() * V),
    )
    const M = batch.positions.length
    const fullLogitsBytes = M * V * 4
    model.headChunkFloats = 2_000_000 // 100 rows per chunk: 8 MB of logits per chunk
    const chunkBytes = Math.floor(model.headChunkFloats / V) * V * 4
    let peak = 0
    const seen = { forward: 0, backward: 0 }
    model.headProbe = (phase) => {
      seen[phase]++
      peak = Math.max(peak, tf.memory().numBytes)
    }
    const vars = model.vars('content')
    const opt = tf.train.sgd(0.1) // keeps its learning-rate scalar
    const base = tf.memory().numBytes
    const tensorsBefore = tf.memory().numTensors
    // What the tape holds for the backbone itself (independent of V), and what the plain formula holds.
    const tapeBytes = backboneTapeBytes(model, batch, 'content')
    let plainBytes = 0
    tf.dispose(
      tf.variableGrads(() => {
        const loss = plainContentLoss(model, batch)
        plainBytes = tf.memory().numBytes - base
        return loss
      }, vars),
    )
    expect(plainBytes).toBeGreaterThan(fullLogitsBytes) // the measure sees [M, V] tensors when they live
    opt.minimize(() => model.contentLoss(batch), true, vars)?.dispose()
    const chunks = Math.ceil(M / Math.floor(model.headChunkFloats / V))
    expect(seen).toEqual({ forward: chunks, backward: chunks })
    expect(chunks).toBeGreaterThan(10)
    const extra = peak - base
    // Beyond the backbone's own taped activations the head adds one or two chunk-sized tensors at a time,
    // never the [M, V] logits (~88 MiB here).
    expect(extra - tapeBytes).toBeLessThan(3 * chunkBytes)
    expect(extra).toBeLessThan(fullLogitsBytes / 3)
    expect(tf.memory().numTensors).toBe(tensorsBefore)
    const mib = (b: number) => (b / 2 ** 20).toFixed(1)
    process.stdout.write(
      `content head: M=${M} V=${V} full logits ${mib(fullLogitsBytes)} MiB; peak extra: chunked ${mib(extra)} MiB (backbone tape ${mib(tapeBytes)}), plain ${mib(plainBytes)} MiB\n`,
    )
    opt.dispose()
    model.dispose()
    backbone.dispose()
  })
})

describe('collaborative item head memory', () => {
  it('one L-step over 20000 items peaks far below the full [M, J] logits, with the plain gradients', () => {
    const V = 50
    const J = 20000
    const backbone = Gpt2.random(
      { vocabSize: V, nPositions: 256, nEmbd: 16, nLayer: 1, nHead: 2, layerNormEpsilon: 1e-5 },
      7,
    )
    const vocab = new SoftVocab(V, 48, J)
    const model = new Cllm4recModel(backbone, vocab, 0.02, 1)
    // 48 collaborative documents of 40 items each: M = 48 x 39 item targets.
    const rng = new Rng(5)
    const itemBase = V + 48
    // A user token, then items.
    const batch = nextTokenBatch(48, 41, (b, t) => (t === 0 ? V + b : itemBase + Math.floor(rng.next() * J)))
    const M = batch.positions.length
    const fullLogitsBytes = M * J * 4
    model.itemChunkFloats = 2_000_000 // 100 rows a chunk
    const vars = model.vars('collab')
    const plain = tf.variableGrads(
      () =>
        tf.tidy(() => {
          const h = model.hiddenAt(batch.inputs, batch.B, batch.T, 'collab', batch.positions)
          const flat = Int32Array.from(batch.targets, (w, m) => m * J + w - itemBase)
          return tf
            .gather(tf.logSoftmax(model.itemLogits(h)).reshape([-1]), tf.tensor1d(flat, 'int32'))
            .mean()
            .neg() as tf.Scalar
        }),
      vars,
    )
    const base = tf.memory().numBytes
    const tensorsBefore = tf.memory().numTensors
    // What the tape holds for the backbone itself, whatever the head.
    const tapeBytes = backboneTapeBytes(model, batch, 'collab')
    let peak = 0
    const seen = { forward: 0, backward: 0 }
    model.headProbe = (phase) => {
      seen[phase]++
      peak = Math.max(peak, tf.memory().numBytes)
    }
    const chunked = tf.variableGrads(() => model.collabLoss(batch), vars)
    const chunks = Math.ceil(M / Math.floor(model.itemChunkFloats / J))
    expect(seen).toEqual({ forward: chunks, backward: chunks })
    expect(chunks).toBeGreaterThan(8)
    // One or two chunk-sized [n, J] tensors at a time, plus each chunk's [J, C] table gradient until tfjs
    // sums them; never the [M, J] logits (~143 MiB here).
    const chunkBytes = Math.floor(model.itemChunkFloats / J) * J * 4
    expect(peak - base - tapeBytes).toBeLessThan(3 * chunkBytes + chunks * J * 16 * 4)
    expect(peak - base).toBeLessThan(fullLogitsBytes / 2)
    expect(Math.abs(chunked.value.dataSync()[0] - plain.value.dataSync()[0])).toBeLessThan(1e-5)
    for (const k of Object.keys(plain.grads)) {
      const a = chunked.grads[k].dataSync() as Float32Array
      const b = plain.grads[k].dataSync() as Float32Array
      const scale = b.reduce((m, x) => Math.max(m, Math.abs(x)), 0)
      expect(scale).toBeGreaterThan(0)
      expect(Array.from(a).reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0)).toBeLessThan(1e-5 * scale)
    }
    tf.dispose([chunked.value, ...Object.values(chunked.grads)])
    expect(tf.memory().numTensors).toBe(tensorsBefore)
    tf.dispose([plain.value, ...Object.values(plain.grads)])
    model.dispose()
    backbone.dispose()
  })
})
