// CLLM4Rec end to end on the synthetic demo dataset with the scratch backbone (wasm): it must beat
// popularity on test Recall@20, a second run with the same seed must give identical metrics, and a run
// killed after a few epochs and resumed from its checkpoint must reach the uninterrupted run's metrics.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateDemoDataset } from '../../../main/data/demo'
import { initBackend } from '../../../main/engine/backend'
import { Popularity } from '../../../main/engine/baselines/popularity'
import { resolveConfig } from '../../../main/engine/cllm4rec/config'
import { trainCllm4rec, type TrainResult } from '../../../main/engine/cllm4rec/trainer'
import { evaluate } from '../../../main/engine/eval/evaluate'
import { FsCheckpointSink } from '../../../main/engine/train/checkpoint'

const data = generateDemoDataset({ seed: 1, users: 200, items: 60, perUser: 10 })
const config = resolveConfig('paper', {
  warmupEpochs: 1,
  rounds: 4,
  finetuneEpochs: 6,
  finetuneContent: false,
  batchSize: 32,
  lrPretrain: 1e-2,
  lrFinetune: 1e-2,
  // A rate that moves every epoch: the resumed run must take it from the task, not from a counter.
  lrFinetuneSchedule: 'cosine',
  contentMainCap: 16,
  scratch: { epochs: 1, vocabSize: 500, context: 64, width: 32, heads: 2 },
})
let tmp: string
let first: TrainResult

beforeAll(async () => {
  await initBackend('wasm')
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cllm4rec-it-'))
})
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe('CLLM4Rec on the demo dataset', () => {
  it('beats popularity on test Recall@20 and leaks no tensors', async () => {
    const pop = await evaluate(new Popularity(data), data, 'test')
    const before = tf.memory().numTensors
    first = await trainCllm4rec(data, config, { backboneDir: path.join(tmp, 'backbone') })
    expect(first.test).not.toBeNull()
    expect(first.test!.recall20).toBeGreaterThan(pop.recall20 + 0.05)
    first.session.dispose()
    expect(tf.memory().numTensors).toBe(before)
  }, 600_000)

  it('is reproducible: same seed, identical metrics', async () => {
    const again = await trainCllm4rec(data, config, { backboneDir: path.join(tmp, 'backbone') })
    again.session.dispose()
    expect(again.test).toEqual(first.test)
    expect(again.val).toEqual(first.val)
  }, 600_000)

  it('resumes after a kill and reaches the uninterrupted metrics', async () => {
    const sink = new FsCheckpointSink(path.join(tmp, 'ckpt'))
    const ctl = new AbortController()
    await expect(
      trainCllm4rec(data, config, {
        backboneDir: path.join(tmp, 'backbone'),
        sink,
        signal: ctl.signal,
        onLog: (m) => {
          if (m.startsWith('finetune rec epoch 1')) ctl.abort()
        },
      }),
    ).rejects.toThrow()
    const ckpt = await sink.loadLatest()
    expect(ckpt?.stage).toBe('finetune')
    expect(ckpt?.step).toBe(1 + 8 + 2)
    const resumed = await trainCllm4rec(data, config, { backboneDir: path.join(tmp, 'backbone'), sink })
    resumed.session.dispose()
    expect(resumed.resumedFrom).toBe(11)
    expect(resumed.test).toEqual(first.test)
    expect(resumed.val).toEqual(first.val)
  }, 600_000)
})
