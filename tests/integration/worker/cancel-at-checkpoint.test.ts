// A cancel that lands right after a checkpoint is stored, before the next task's first batch: the
// product trainer must already have logged that task's loss, because the resume starts after it.
// (CI once lost 'loss@collaborative:1:0' this way in the browser-mode resume test.)
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MetricPoint } from '../../../preload/api'
import { resolveConfig } from '../../../main/engine/cllm4rec/config'
import { generateDemoDataset } from '../../../main/data/demo'
import { cllm4recTrainer } from '../../../main/worker/cllm4rec-trainer'
import { isAbort, type TrainerContext } from '../../../main/worker/trainer'
import type { CheckpointBlob } from '../../../main/worker/messages'

const config = resolveConfig('paper', {
  warmupEpochs: 1,
  rounds: 2,
  finetuneEpochs: 2,
  batchSize: 16,
  maxLength: 64,
  scratch: { layers: 1, width: 16, heads: 1, context: 64, epochs: 1, vocabSize: 300 },
})
const dataset = generateDemoDataset({ seed: 4, users: 60, items: 40 })
let cacheDir = ''

beforeAll(() => {
  cacheDir = mkdtempSync(path.join(os.tmpdir(), 'wb-cancel-ckpt-'))
})
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }))

interface Log {
  metrics: MetricPoint[]
  checkpoints: CheckpointBlob[]
  /** Loss steps logged when each checkpoint was handed over. */
  lossStepsAtCheckpoint: number[][]
}

/** Runs the product trainer; `cancelAfter` checkpoints, aborts inside the checkpoint call. */
async function run(resume: CheckpointBlob | null, cancelAfter = Infinity): Promise<Log> {
  const ac = new AbortController()
  const log: Log = { metrics: [], checkpoints: [], lossStepsAtCheckpoint: [] }
  const ctx: TrainerContext = {
    runId: 1,
    dataset,
    config: config as unknown as Record<string, unknown>,
    backbone: { id: 'scratch', cacheDir },
    seed: config.seed,
    signal: ac.signal,
    resume,
    progress: () => {},
    metric: (p) => log.metrics.push(p),
    checkpoint: async (c) => {
      log.checkpoints.push(c)
      log.lossStepsAtCheckpoint.push(log.metrics.filter((m) => m.name === 'loss').map((m) => m.step))
      if (log.checkpoints.length >= cancelAfter) ac.abort()
    },
  }
  try {
    await cllm4recTrainer(ctx)
  } catch (err) {
    if (!isAbort(err)) throw err
  }
  return log
}

const series = (ms: MetricPoint[]) => ms.map((m) => `${m.name}@${m.stage}:${m.step}:${m.epoch}`).sort()

describe('cancel right after a checkpoint', () => {
  it('has logged the checkpointed task, so cancel + resume logs every series once', async () => {
    const straight = await run(null)
    // Checkpoint k (after task k-1) is handed over with the losses of tasks 0..k-1 already out.
    straight.lossStepsAtCheckpoint.forEach((steps, k) =>
      expect(steps, `checkpoint ${k}`).toEqual(Array.from({ length: k + 1 }, (_, i) => i)),
    )
    const cancelled = await run(null, 2)
    expect(cancelled.checkpoints).toHaveLength(2)
    const resumed = await run(cancelled.checkpoints[1])
    expect(series([...cancelled.metrics, ...resumed.metrics])).toEqual(series(straight.metrics))
  }, 120_000)
})
