// One CLLM4Rec schedule (a content, a collaborative and a RecLLM epoch, dropout on) on the demo data gives
// the same per-epoch losses on the native kernels as on plain wasm: the addon changes speed, not results.
import * as tf from '@tensorflow/tfjs'
import { afterAll, describe, expect, it } from 'vitest'
import { generateDemoDataset } from '../../../main/data/demo'
import { initBackend } from '../../../main/engine/backend'
import { resolveConfig } from '../../../main/engine/cllm4rec/config'
import { backboneTexts } from '../../../main/engine/cllm4rec/corpus'
import { trainCllm4rec } from '../../../main/engine/cllm4rec/trainer'
import { learnBpe } from '../../../main/engine/gpt2/bpe-train'
import { Gpt2 } from '../../../main/engine/gpt2/model'
import { Gpt2Tokenizer } from '../../../main/engine/gpt2/tokenizer'

const data = generateDemoDataset({ seed: 2, users: 80, items: 40, perUser: 8 })
const config = resolveConfig('paper', {
  warmupEpochs: 1,
  rounds: 1,
  finetuneEpochs: 1,
  batchSize: 16,
  contentMainCap: 24,
})
const bpe = learnBpe(backboneTexts(data, config.prompts), 400)

async function losses(backend: 'native' | 'wasm'): Promise<{ kind: string; loss: number }[]> {
  await initBackend(backend)
  const tokenizer = new Gpt2Tokenizer(bpe.vocab, bpe.merges, 'test tokenizer')
  const model = Gpt2.random(
    { vocabSize: bpe.vocab.size, nPositions: 64, nEmbd: 32, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 },
    5,
  )
  const before = tf.memory().numTensors
  const r = await trainCllm4rec(data, config, { backbone: { model, tokenizer, dir: 'test' }, skipTest: true })
  r.session.dispose()
  expect(tf.memory().numTensors).toBeLessThanOrEqual(before - model.trainableWeights().length)
  return r.history.map((h) => ({ kind: `${h.stage}:${h.kind}`, loss: h.loss }))
}

afterAll(async () => {
  await initBackend('wasm')
})

describe('native vs wasm training', () => {
  it('one epoch of every stage gives the same losses within 1e-4', async () => {
    const n = await losses('native')
    const w = await losses('wasm')
    expect(n.map((h) => h.kind)).toEqual(w.map((h) => h.kind))
    expect(n.map((h) => h.kind)).toEqual(
      expect.arrayContaining(['warmup:content', 'pretrain:collab', 'pretrain:content', 'finetune:rec']),
    )
    const diffs = n.map((h, i) => Math.abs(h.loss - w[i].loss))
    console.log(`per-epoch |native - wasm| losses: ${diffs.map((d) => d.toExponential(1)).join(', ')}`)
    for (const h of n) expect(Number.isFinite(h.loss) && h.loss > 0).toBe(true)
    expect(Math.max(...diffs)).toBeLessThan(1e-4)
  }, 300_000)
})
