// The product trainer: runs the engine's CLLM4Rec schedule (CLLM4REC.md §5, §6) inside the worker,
// translating its callbacks into the run protocol (stage names, overall fraction, per-epoch loss and
// validation metrics) and its checkpoints into CheckpointBlobs for the store.
import path from 'node:path'
import type { RunProgress, Stage } from '../../preload/api'
import { backendLabel, initBackend } from '../engine/backend'
import { scratchCacheDir } from '../engine/cllm4rec/backbone'
import type { Cllm4recConfig } from '../engine/cllm4rec/config'
import { planTasks, trainCllm4rec, type EpochTask } from '../engine/cllm4rec/trainer'
import type { Checkpoint, CheckpointSink } from '../engine/train/checkpoint'
import type { ProgressEvent } from '../engine/train/progress'
import type { CheckpointBlob } from './messages'
import type { Trainer, TrainerContext } from './trainer'

export const CLLM4REC_FORMAT = 'cllm4rec v'

/** Engine stage labels ('pretrain:collab', ...) -> the API's stages. */
export function apiStage(engineStage: string): Stage {
  const [stage, kind] = engineStage.split(':')
  if (stage === 'backbone') return 'backbone'
  if (stage === 'warmup') return 'warmup'
  if (stage === 'pretrain') return kind === 'collab' ? 'collaborative' : 'content'
  if (stage === 'finetune') return 'finetune'
  return 'eval'
}

export function checkpointToBlob(c: Checkpoint): CheckpointBlob {
  const { tensors, ...meta } = c
  return {
    stage: c.stage,
    epoch: c.step,
    step: c.step,
    format: `${CLLM4REC_FORMAT}${c.formatVersion}`,
    meta: meta as unknown as Record<string, unknown>,
    tensors: Object.entries(tensors).map(([name, t]) => ({ name, shape: t.shape, data: t.data })),
  }
}

export function blobToCheckpoint(b: CheckpointBlob): Checkpoint {
  if (!b.format.startsWith(CLLM4REC_FORMAT))
    throw new Error(`cannot resume a CLLM4Rec run from a '${b.format}' checkpoint`)
  const tensors: Checkpoint['tensors'] = {}
  for (const t of b.tensors) tensors[t.name] = { shape: t.shape, data: t.data }
  return { ...(b.meta as unknown as Omit<Checkpoint, 'tensors'>), tensors }
}

export const cllm4recTrainer: Trainer = async (ctx) => {
  const backend = await initBackend('auto')
  const config = ctx.config as unknown as Cllm4recConfig
  // Scratch backbones are cached per dataset + settings beside the database, not in /tmp.
  const backboneDir =
    config.backbone === 'scratch' && ctx.backbone?.cacheDir
      ? path.join(ctx.backbone.cacheDir, path.basename(scratchCacheDir(ctx.dataset, config)))
      : undefined
  const tracker = taskTracker(ctx, planTasks(config))
  const sink: CheckpointSink = {
    // The finished task's loss goes out before its checkpoint: a cancel landing between the two
    // would otherwise lose it, since a resume starts after the checkpointed task.
    save: (c) => {
      tracker.flushLoss()
      return ctx.checkpoint(checkpointToBlob(c))
    },
    loadLatest: async () => (ctx.resume ? blobToCheckpoint(ctx.resume) : null),
  }
  const result = await trainCllm4rec(ctx.dataset, config, {
    signal: ctx.signal,
    sink,
    backboneDir,
    onProgress: tracker.onProgress,
    onMetric: (m) => {
      const stage: Stage = m.split === 'test' ? 'eval' : apiStage(m.stage)
      // The final test evaluation sits at the last task's step, whatever task this process began with.
      const step = m.split === 'test' ? tracker.totalTasks - 1 : tracker.taskIndex()
      for (const [name, value] of Object.entries(m.metrics)) {
        if (name !== 'users') ctx.metric({ stage, step, epoch: m.epoch, name: `${m.split}.${name}`, value })
      }
    },
  })
  tracker.flushLoss()
  try {
    if (!result.test) throw new Error('training finished without a test evaluation')
    return {
      test: headline(result.test),
      val: result.val ? headline(result.val) : undefined,
      backend: backendLabel(backend),
    }
  } finally {
    result.session.dispose()
  }
}

const headline = (m: { recall20: number; recall40: number; ndcg100: number }) => ({
  recall20: m.recall20,
  recall40: m.recall40,
  ndcg100: m.ndcg100,
})

/**
 * Follows the engine's progress through the planned tasks: each task's mean loss as one metric point,
 * and every progress event passed on as the run's, with an overall fraction and ETA.
 */
function taskTracker(ctx: TrainerContext, plan: EpochTask[]) {
  const started = Date.now()
  const totalTasks = Math.max(1, plan.length)
  // Metric steps are the task's index in the plan, not a count of tasks seen by this process, so a
  // resumed run logs every series at the same steps as an uninterrupted one.
  const planIndex = (p: ProgressEvent): number =>
    plan.findIndex((t) => t.series.stage === p.stage && t.series.epoch === p.epoch)
  let task = { key: '', stage: 'warmup' as Stage, epoch: 0, lossSum: 0, n: 0 }
  let taskIndex = ctx.resume ? ctx.resume.step : 0
  const flushLoss = (): void => {
    if (task.n > 0) {
      const value = task.lossSum / task.n
      ctx.metric({ stage: task.stage, step: taskIndex, epoch: task.epoch, name: 'loss', value })
    }
    task.lossSum = 0
    task.n = 0
  }
  const onProgress = (p: ProgressEvent): void => {
    const stage = apiStage(p.stage)
    const key = `${p.stage}/${p.epoch}`
    if (stage !== 'backbone' && key !== task.key) {
      flushLoss()
      const i = planIndex(p)
      taskIndex = i >= 0 ? i : taskIndex + 1
      task = { key, stage, epoch: p.epoch, lossSum: 0, n: 0 }
    }
    if (stage !== 'backbone' && Number.isFinite(p.loss)) {
      task.lossSum += p.loss
      task.n++
    }
    const byTasks = (taskIndex + p.step / Math.max(1, p.totalSteps)) / totalTasks
    ctx.progress(runProgress(p, stage, (Date.now() - started) / 1000, byTasks))
  }
  return { onProgress, flushLoss, totalTasks, taskIndex: () => taskIndex }
}

/** An engine progress event as the run's: `byTasks` is the fraction of planned tasks done. */
function runProgress(
  p: ProgressEvent,
  stage: Stage,
  elapsed: number,
  byTasks: number,
): Omit<RunProgress, 'runId'> {
  const eta = Number.isFinite(p.etaSec) ? Math.max(0, p.etaSec) : NaN
  // The engine's own run-wide fraction (backbone, warm-up, resumed tasks included) when it has one;
  // else from its ETA once it has timed a task; before that, by task count.
  const fraction =
    p.fraction !== undefined
      ? p.fraction
      : stage === 'backbone'
        ? p.step / Math.max(1, p.totalSteps)
        : Number.isFinite(eta)
          ? elapsed / (elapsed + eta)
          : byTasks
  return {
    stage,
    epoch: p.epoch,
    step: p.step,
    totalSteps: p.totalSteps,
    fraction: Math.min(1, Math.max(0, fraction)),
    loss: p.loss,
    tokensPerSec: Number.isFinite(p.tokensPerSec) ? p.tokensPerSec : 0,
    etaSec: Number.isFinite(eta) ? eta : byTasks > 0 ? (elapsed * (1 - byTasks)) / byTasks : 0,
  }
}
