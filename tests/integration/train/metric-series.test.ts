// Loss series and overall progress of the CLLM4Rec schedule (CLLM4REC.md §5, §6), on the tiny fixture
// model: each progress series carries one loss (the C-epochs alternating with RecLLM continue the content
// series, 'finetune' is RecLLM only), the worker's stage mapping charts them apart, and the overall
// fraction/ETA cover the warm-up from its first batch and reach 1 at the end.
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../main/engine/backend'
import { resolveConfig } from '../../../main/engine/cllm4rec/config'
import { planTasks, trainCllm4rec } from '../../../main/engine/cllm4rec/trainer'
import type { MetricEvent, ProgressEvent } from '../../../main/engine/train/progress'
import { apiStage } from '../../../main/worker/cllm4rec-trainer'
import { tinyBackbone, tinyData, WordTokenizer } from '../../unit/cllm4rec/fixtures'

const config = resolveConfig('paper', {
  warmupEpochs: 2,
  rounds: 2,
  finetuneEpochs: 3,
  finetuneContent: true,
  evalEvery: 1,
  batchSize: 1,
  lrPretrain: 1e-2,
  lrFinetune: 1e-2,
})

beforeAll(async () => {
  await initBackend('wasm')
})

describe('planTasks series', () => {
  it('labels finetuning C-epochs as the continuing content series, RecLLM epochs as finetune', () => {
    const series = planTasks(config).map(
      (t) => `${t.stage}/${t.kind}/${t.epoch} -> ${t.series.stage}/${t.series.epoch}`,
    )
    expect(series).toEqual([
      'warmup/content/0 -> warmup:content/0',
      'warmup/content/1 -> warmup:content/1',
      'pretrain/collab/0 -> pretrain:collab/0',
      'pretrain/content/0 -> pretrain:content/0',
      'pretrain/collab/1 -> pretrain:collab/1',
      'pretrain/content/1 -> pretrain:content/1',
      'finetune/rec/0 -> finetune:rec/0',
      'finetune/content/0 -> pretrain:content/2',
      'finetune/rec/1 -> finetune:rec/1',
      'finetune/content/1 -> pretrain:content/3',
      'finetune/rec/2 -> finetune:rec/2',
      'finetune/content/2 -> pretrain:content/4',
    ])
  })
})

describe('training progress', () => {
  it('reports one loss per series, val metrics under finetune, and a whole-run fraction/ETA', async () => {
    const data = tinyData()
    const events: ProgressEvent[] = []
    const metrics: MetricEvent[] = []
    const before = tf.memory().numTensors
    const model = tinyBackbone(4)
    const r = await trainCllm4rec(data, config, {
      backbone: { model, tokenizer: new WordTokenizer(), dir: 'fixture' },
      skipTest: true,
      onProgress: (e) => events.push(e),
      onMetric: (m) => metrics.push(m),
    })
    r.session.dispose() // the model and its backbone
    expect(tf.memory().numTensors).toBe(before)

    // Mean batch loss per (series, epoch), as the worker aggregates it, against the trainer's history.
    const perKey = new Map<string, number[]>()
    for (const e of events) {
      const k = `${e.stage}/${e.epoch}`
      perKey.set(k, [...(perKey.get(k) ?? []), e.loss])
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
    const tasks = planTasks(config)
    expect(r.history.length).toBe(tasks.length)
    expect([...perKey.keys()]).toEqual(tasks.map((t) => `${t.series.stage}/${t.series.epoch}`))
    r.history.forEach((h, i) => {
      const losses = perKey.get(`${tasks[i].series.stage}/${tasks[i].series.epoch}`)!
      expect(mean(losses)).toBeCloseTo(h.loss, 6)
    })
    // The charted stages: 'finetune' holds the RecLLM loss only, 'content' every content-LLM C-epoch.
    const charted = new Map<string, string[]>()
    tasks.forEach((t, i) => {
      const stage = apiStage(t.series.stage)
      charted.set(stage, [...(charted.get(stage) ?? []), `${r.history[i].kind}@${t.series.epoch}`])
    })
    expect(charted.get('finetune')).toEqual(['rec@0', 'rec@1', 'rec@2'])
    expect(charted.get('content')).toEqual(['content@0', 'content@1', 'content@2', 'content@3', 'content@4'])
    expect(charted.get('warmup')).toEqual(['content@0', 'content@1'])
    expect(metrics.filter((m) => m.split === 'val').map((m) => `${m.stage}/${m.epoch}`)).toEqual([
      'finetune/0',
      'finetune/1',
      'finetune/2',
    ])

    // Overall fraction and ETA: finite and positive from the first warm-up batch, within [0, 1], growing
    // across the run, 1 (ETA 0) at the last batch.
    const first = events[0]
    expect(first.stage).toBe('warmup:content')
    expect(Number.isFinite(first.etaSec) && first.etaSec > 0).toBe(true)
    expect(first.fraction).toBeGreaterThan(0)
    expect(first.fraction).toBeLessThan(0.5)
    for (const e of events) {
      expect(e.fraction).toBeGreaterThanOrEqual(0)
      expect(e.fraction).toBeLessThanOrEqual(1)
      expect(Number.isFinite(e.etaSec)).toBe(true)
    }
    const lastWarmup = events.filter((e) => e.stage === 'warmup:content').at(-1)!
    const midFinetune = events.find((e) => e.stage === 'finetune:rec' && e.epoch === 1)!
    expect(lastWarmup.fraction!).toBeGreaterThan(first.fraction!)
    expect(midFinetune.fraction!).toBeGreaterThan(lastWarmup.fraction!)
    const last = events.at(-1)!
    expect(last.fraction).toBeCloseTo(1, 6)
    expect(last.etaSec).toBeCloseTo(0, 6)
  })
})
