// A whole CLLM4Rec run small enough for a test: 60 demo users, a random 2x32 backbone on a 400-token BPE,
// dropout off (so two runs that should agree do to float rounding). Returns the history and the tables.
import * as tf from '@tensorflow/tfjs'
import { expect } from 'vitest'
import { generateDemoDataset } from '../../../main/data/demo'
import { initBackend } from '../../../main/engine/backend'
import { resolveConfig, type ConfigOverrides } from '../../../main/engine/cllm4rec/config'
import { backboneTexts } from '../../../main/engine/cllm4rec/corpus'
import { trainCllm4rec } from '../../../main/engine/cllm4rec/trainer'
import { learnBpe } from '../../../main/engine/gpt2/bpe-train'
import { Gpt2 } from '../../../main/engine/gpt2/model'
import { Gpt2Tokenizer } from '../../../main/engine/gpt2/tokenizer'

const data = generateDemoDataset({ seed: 3, users: 60, items: 30, perUser: 8 })
const base: ConfigOverrides = {
  warmupEpochs: 1,
  rounds: 1,
  finetuneEpochs: 2,
  evalEvery: 1,
  batchSize: 16,
  contentMainCap: 24,
  dropout: 0,
}
const bpe = learnBpe(backboneTexts(data, resolveConfig('fast', base).prompts), 400)

export async function tinyRun(overrides: ConfigOverrides = {}) {
  await initBackend('native')
  const config = resolveConfig('fast', { ...base, ...overrides })
  const tokenizer = new Gpt2Tokenizer(bpe.vocab, bpe.merges, 'test tokenizer')
  const model = Gpt2.random(
    { vocabSize: bpe.vocab.size, nPositions: 64, nEmbd: 32, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 },
    5,
  )
  const before = tf.memory().numTensors
  const r = await trainCllm4rec(data, config, { backbone: { model, tokenizer, dir: 'test' }, skipTest: true })
  const tables = Object.fromEntries(
    Object.entries(r.session.model.tables()).map(([k, v]) => [k, Float32Array.from(v.dataSync())]),
  )
  r.session.dispose()
  expect(tf.memory().numTensors).toBeLessThanOrEqual(before - model.trainableWeights().length)
  return { history: r.history, tables }
}
