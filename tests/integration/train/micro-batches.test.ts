// A batch too large for memory is cut into micro-batches whose gradients are summed before one Adam
// step (trainer.ts microBatches): with dropout off, a run whose every batch is cut into single documents
// gives the same per-epoch losses, validation and tables as the uncut run.
import * as tf from '@tensorflow/tfjs'
import { afterEach, describe, expect, it } from 'vitest'
import { generateDemoDataset } from '../../../main/data/demo'
import { initBackend } from '../../../main/engine/backend'
import { resolveConfig } from '../../../main/engine/cllm4rec/config'
import { backboneTexts } from '../../../main/engine/cllm4rec/corpus'
import { setStepBytesBudget, trainCllm4rec } from '../../../main/engine/cllm4rec/trainer'
import { learnBpe } from '../../../main/engine/gpt2/bpe-train'
import { Gpt2 } from '../../../main/engine/gpt2/model'
import { Gpt2Tokenizer } from '../../../main/engine/gpt2/tokenizer'

const data = generateDemoDataset({ seed: 3, users: 60, items: 30, perUser: 8 })
const config = resolveConfig('fast', {
  warmupEpochs: 1,
  rounds: 1,
  finetuneEpochs: 2,
  evalEvery: 1,
  batchSize: 16,
  contentMainCap: 24,
  dropout: 0,
})
const bpe = learnBpe(backboneTexts(data, config.prompts), 400)

async function train(budget: number | undefined) {
  await initBackend('native')
  setStepBytesBudget(budget)
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

afterEach(() => setStepBytesBudget(undefined))

describe('micro-batches', () => {
  it('cutting every batch into single documents changes neither losses nor tables', async () => {
    const whole = await train(undefined)
    const cut = await train(1) // any two documents exceed one byte: every part is one document
    expect(cut.history.map((h) => h.kind)).toEqual(whole.history.map((h) => h.kind))
    expect(whole.history.map((h) => h.kind)).toEqual(expect.arrayContaining(['content', 'collab', 'rec']))
    whole.history.forEach((h, i) => {
      expect(Number.isFinite(h.loss) && h.loss > 0).toBe(true)
      expect(Math.abs(cut.history[i].loss - h.loss)).toBeLessThan(1e-4 * h.loss)
      if (h.val) expect(cut.history[i].val?.recall20).toBeCloseTo(h.val.recall20, 6)
    })
    for (const [k, a] of Object.entries(whole.tables)) {
      const b = cut.tables[k]
      const diff = a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0)
      expect(diff).toBeLessThan(1e-4)
    }
  }, 300_000)
})
