// The three loss heads run on the fused sparse CE (engine/fused-ce.ts): their values and gradients must
// equal the plain log-softmax formulas, on the native kernels and on plain wasm.
import * as tf from '@tensorflow/tfjs'
import { afterAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../main/engine/backend'
import { collaborativeDoc, contentDoc, packBatch, packPrompts } from '../../../main/engine/cllm4rec/documents'
import { Cllm4recModel } from '../../../main/engine/cllm4rec/model'
import { DEFAULT_PROMPTS } from '../../../main/engine/cllm4rec/prompts'
import { ExtendedTokenizer, SoftVocab } from '../../../main/engine/cllm4rec/vocab'
import { tinyBackbone, VOCAB, WordTokenizer } from './fixtures'

const vocab = new SoftVocab(VOCAB, 4, 6)
const tok = new ExtendedTokenizer(new WordTokenizer(), vocab)

/** −Σ log softmax(logits)[row, label], the reference the fused op must match. */
function nll(logits: tf.Tensor2D, rows: number[], labels: number[]): tf.Scalar {
  const J = logits.shape[1]
  const flat = rows.map((r, i) => r * J + labels[i])
  return tf
    .gather(tf.logSoftmax(logits).reshape([-1]), tf.tensor1d(flat, 'int32'))
    .sum()
    .neg() as tf.Scalar
}

interface Case {
  name: string
  fused: (m: Cllm4recModel) => tf.Scalar
  reference: (m: Cllm4recModel) => tf.Scalar
  side: 'collab' | 'content'
}

const collabDocs = [
  collaborativeDoc(tok, DEFAULT_PROMPTS, 1, [3, 0, 5], { maxLength: 64 }),
  collaborativeDoc(tok, DEFAULT_PROMPTS, 2, [4], { maxLength: 64 }),
]
const contentDocs = [
  contentDoc(
    tok,
    DEFAULT_PROMPTS,
    'review',
    { user: 0, item: 2 },
    ' great red lipstick, the user will interact',
    { maxLength: 64 },
  ),
  contentDoc(tok, DEFAULT_PROMPTS, 'review', { user: 3, item: 1 }, ' red lipstick is great', {
    maxLength: 64,
  }),
]
const prompts = packPrompts([
  tok.encode('<user_0> has interacted with <item_1>, the user will interact with'),
  tok.encode('<user_2> has interacted with <item_3> <item_0>, the user will interact with'),
])
const recTargets = [[2, 4, 0], [5]]

const cases: Case[] = [
  {
    name: 'collaborative item head',
    side: 'collab',
    fused: (m) => m.collabLoss(packBatch(collabDocs, true)),
    reference: (m) => {
      const b = packBatch(collabDocs, true)
      const h = m.hiddenAt(b.inputs, b.B, b.T, 'collab', b.positions)
      const off = vocab.base + vocab.nUsers
      const labels = Array.from(b.targets, (t) => t - off)
      return nll(
        m.itemLogits(h),
        labels.map((_, i) => i),
        labels,
      ).div(labels.length) as tf.Scalar
    },
  },
  {
    name: 'RecLLM multinomial head (several targets per user)',
    side: 'collab',
    fused: (m) => m.recLoss(prompts, recTargets),
    reference: (m) => {
      const h = m.hiddenAt(prompts.inputs, prompts.B, prompts.T, 'collab', prompts.last)
      const rows = recTargets.flatMap((ts, b) => ts.map(() => b))
      return nll(m.itemLogits(h), rows, recTargets.flat()).div(prompts.B) as tf.Scalar
    },
  },
  {
    name: 'content vocabulary head (chunked)',
    side: 'content',
    fused: (m) => m.contentLoss(packBatch(contentDocs, true)),
    reference: (m) => {
      const b = packBatch(contentDocs, true)
      const h = m.hiddenAt(b.inputs, b.B, b.T, 'content', b.positions)
      const labels = Array.from(b.targets)
      return nll(
        m.backbone.logits(h),
        labels.map((_, i) => i),
        labels,
      ).div(labels.length) as tf.Scalar
    },
  },
]

async function lossAndGrads(backend: 'native' | 'wasm', c: Case, which: 'fused' | 'reference') {
  await initBackend(backend)
  const model = new Cllm4recModel(tinyBackbone(), vocab, 0.3, 7)
  // Several chunks in the content head (V = VOCAB) and in the collaborative item head (J = 6).
  model.headChunkFloats = 3 * VOCAB
  model.itemChunkFloats = 2 * 6
  try {
    const { value, grads } = tf.variableGrads(() => c[which](model), model.vars(c.side))
    const out = {
      loss: value.dataSync()[0],
      grads: Object.fromEntries(
        Object.entries(grads).map(([k, g]) => [k.replace(/_\d+$/, ''), g.dataSync()]),
      ),
    }
    tf.dispose([value, ...Object.values(grads)])
    return out
  } finally {
    model.backbone.dispose()
    model.dispose()
  }
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0)

afterAll(async () => {
  await initBackend('wasm')
})

describe('loss heads on the fused CE', () => {
  for (const c of cases) {
    for (const backend of ['native', 'wasm'] as const) {
      it(`${c.name} on ${backend}: loss and gradients equal the log-softmax reference`, async () => {
        const ref = await lossAndGrads(backend, c, 'reference')
        const got = await lossAndGrads(backend, c, 'fused')
        expect(Math.abs(got.loss - ref.loss)).toBeLessThan(1e-5)
        expect(got.loss).toBeGreaterThan(0)
        expect(Object.keys(got.grads).sort()).toEqual(Object.keys(ref.grads).sort())
        for (const k of Object.keys(ref.grads)) {
          const scale = Math.max(...Array.from(ref.grads[k], Math.abs))
          expect(scale).toBeGreaterThan(0)
          expect(maxDiff(got.grads[k], ref.grads[k])).toBeLessThan(1e-5 * Math.max(1, scale))
        }
      })
    }
  }
})
