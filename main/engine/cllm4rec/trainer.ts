// Training CLLM4Rec (CLLM4REC.md §5, §6): content warm-up, rounds of L-epoch + C-epoch with mutual
// regularisation, then RecLLM finetuning (masked prompting, alternating with C-epochs) with model
// selection on validation. The run is a flat list of epoch tasks; after each task a checkpoint holds
// everything needed to continue bit-for-bit (embeddings, Adam moments and β powers, PRNG state, best).
import * as tf from '@tensorflow/tfjs'
import type { RecDataset } from '../../data/types'
import { backendInfo } from '../backend'
import { evaluate } from '../eval/evaluate'
import { selectionScore, type RankingMetrics } from '../eval/metrics'
import {
  CHECKPOINT_FORMAT_VERSION,
  type Checkpoint,
  type CheckpointSink,
  type StoredTensor,
} from '../train/checkpoint'
import { StageTimer, type TrainCallbacks } from '../train/progress'
import { Rng } from '../train/rng'
import { prepareBackbone, type LoadedBackbone } from './backbone'
import type { Cllm4recConfig } from './config'
import { batchRows, buildCollabDocs, buildContentDocs, buildRecExamples } from './corpus'
import { packBatch, packPrompts, type Doc } from './documents'
import { Cllm4recModel, type Side } from './model'
import { RunClock, planTasks, type TaskKind } from './schedule'
import { Cllm4recSession } from './session'
import { ExtendedTokenizer, SoftVocab } from './vocab'

export { planTasks, type EpochTask, type TaskKind } from './schedule'

export interface TrainOptions extends TrainCallbacks {
  /** A loaded backbone (else prepared from config.backbone). */
  backbone?: LoadedBackbone
  /** Where the scratch backbone is written/read (default: a cache folder keyed by data + settings). */
  backboneDir?: string
  sink?: CheckpointSink
  /** Skip the final test evaluation (e.g. when the caller evaluates itself). */
  skipTest?: boolean
}

export interface TrainResult {
  session: Cllm4recSession
  /** Best validation metrics (null when no finetuning epoch ran). */
  val: RankingMetrics | null
  test: RankingMetrics | null
  history: {
    task: number
    stage: string
    kind: TaskKind
    epoch: number
    loss: number
    val?: RankingMetrics
  }[]
  stages: ReturnType<StageTimer['summary']>
  truncated: { content: number; collab: number }
  resumedFrom: number | null
}

type OptKey = 'collab' | 'content' | 'rec' | 'contentFt'
const OPT_KEYS: OptKey[] = ['collab', 'content', 'rec', 'contentFt']

async function optimizerState(opt: tf.AdamOptimizer): Promise<StoredTensor[]> {
  const ws = await opt.getWeights()
  const o = opt as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable }
  const all = [...ws.map((w) => w.tensor), o.accBeta1, o.accBeta2]
  return all.map((t) => ({ shape: t.shape, data: Float32Array.from(t.dataSync() as Float32Array) }))
}

async function restoreOptimizer(opt: tf.AdamOptimizer, stored: StoredTensor[]): Promise<void> {
  const body = stored.slice(0, -2)
  const named = body.map((t, i) => ({ name: i === 0 ? 'iter' : `m${i}`, tensor: tf.tensor(t.data, t.shape) }))
  await opt.setWeights(named)
  tf.dispose(named.map((n) => n.tensor))
  // setWeights recomputes β^t with pow(); the stored running products keep resumed runs bit-identical.
  const o = opt as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable }
  const [b1, b2] = stored.slice(-2)
  tf.tidy(() => {
    o.accBeta1.assign(tf.tensor(b1.data, b1.shape))
    o.accBeta2.assign(tf.tensor(b2.data, b2.shape))
  })
}

/**
 * Length bucketing: the shuffled list is cut into pools of 16 batches, each pool is sorted by length and
 * cut into batches, and the batch order is shuffled. Right padding then costs little, and the order is
 * still random (and seeded).
 */
function batches<T>(xs: T[], size: number, rng: Rng, len: (x: T) => number): T[][] {
  const out: T[][] = []
  const pool = size * 16
  for (let p = 0; p < xs.length; p += pool) {
    const part = xs.slice(p, p + pool).sort((a, b) => len(a) - len(b))
    for (let i = 0; i < part.length; i += size) out.push(part.slice(i, i + size))
  }
  return rng.shuffle(out)
}

export async function trainCllm4rec(
  data: RecDataset,
  config: Readonly<Cllm4recConfig>,
  opts: TrainOptions = {},
): Promise<TrainResult> {
  const signal = opts.signal
  const log = (m: string) => opts.onLog?.(m)
  const tasks = planTasks(config)
  const clock = new RunClock(tasks, data, config.scratch.epochs)
  const backbone =
    opts.backbone ??
    (await prepareBackbone(data, config, {
      dir: opts.backboneDir,
      onLog: log,
      signal,
      onProgress: (done, total, loss, etaSec, tokensPerSec) =>
        opts.onProgress?.({
          stage: 'backbone',
          epoch: 0,
          step: done,
          totalSteps: total,
          loss,
          tokensPerSec,
          ...clock.duringBackbone(etaSec, tokensPerSec),
        }),
    }))
  const vocab = new SoftVocab(backbone.model.config.vocabSize, data.userIds.length, data.itemIds.length)
  const tok = new ExtendedTokenizer(backbone.tokenizer, vocab)
  const model = new Cllm4recModel(backbone.model, vocab, config.initStd, config.seed)
  const session = new Cllm4recSession(model, tok, config, data, backbone.dir)
  const maxLength = session.maxLength
  const rng = new Rng(config.seed)
  const perDoc = config.mutualScaling === 'per-doc'
  const content = buildContentDocs(data, tok, config, maxLength)
  if (content.docs.length === 0 && tasks.some((t) => t.kind === 'content')) {
    log('no content documents (no reviews or texts): content epochs are skipped')
  }
  const opt: Record<OptKey, tf.AdamOptimizer> = {
    collab: tf.train.adam(config.lrPretrain, 0.9, 0.999, 1e-8),
    content: tf.train.adam(config.lrPretrain, 0.9, 0.999, 1e-8),
    rec: tf.train.adam(config.lrFinetune, 0.9, 0.999, 1e-8),
    contentFt: tf.train.adam(config.lrFinetune, 0.9, 0.999, 1e-8),
  }
  const timer = new StageTimer()
  const history: TrainResult['history'] = []
  let best: { score: number; metrics: RankingMetrics; zlUser: Float32Array; zlItem: Float32Array } | null =
    null
  let collabTruncated = 0
  let startTask = 0
  let resumedFrom: number | null = null

  // Resume from the sink's latest checkpoint when it belongs to this run.
  const ckpt = opts.sink ? await opts.sink.loadLatest() : null
  if (ckpt) {
    if (ckpt.dataHash !== data.hash)
      throw new Error(`checkpoint: field dataHash ${ckpt.dataHash} does not match the dataset ${data.hash}`)
    if (JSON.stringify(ckpt.config) !== JSON.stringify(config))
      throw new Error('checkpoint: field config differs from this run')
    for (const [name, v] of Object.entries(model.tables())) {
      const t = ckpt.tensors[name]
      if (!t || t.data.length !== v.size) throw new Error(`checkpoint: tensor ${name} missing or wrong size`)
      tf.tidy(() => v.assign(tf.tensor(t.data, v.shape)))
    }
    for (const k of OPT_KEYS) {
      const n = (ckpt.extra.optimizerTensors as Record<string, number>)[k]
      await restoreOptimizer(
        opt[k],
        Array.from({ length: n }, (_, i) => ckpt.tensors[`opt/${k}/${i}`]),
      )
    }
    rng.state = ckpt.rngState
    startTask = ckpt.step
    resumedFrom = ckpt.step
    history.push(...(ckpt.extra.history as TrainResult['history']))
    collabTruncated = ckpt.extra.collabTruncated as number
    const b = ckpt.extra.best as { score: number; metrics: RankingMetrics } | null
    if (b)
      best = { ...b, zlUser: ckpt.tensors['best/zl_user'].data, zlItem: ckpt.tensors['best/zl_item'].data }
    log(`resumed from checkpoint at task ${startTask}/${tasks.length}`)
  }

  clock.contentTokens = content.docs.reduce((s, d) => s + d.ids.length, 0)
  clock.startTask = startTask

  const step = (side: Side, key: OptKey, lossFn: () => tf.Scalar): number => {
    const cost = opt[key].minimize(lossFn, true, model.vars(side))
    const v = cost ? cost.dataSync()[0] : NaN
    cost?.dispose()
    if (!Number.isFinite(v)) throw new Error(`training diverged: loss ${v} (${key})`)
    return v
  }

  try {
    for (let ti = startTask; ti < tasks.length; ti++) {
      signal?.throwIfAborted()
      const task = tasks[ti]
      const t0 = performance.now()
      let tokens = 0
      let lossSum = 0
      let nb = 0
      const report = (nBatches: number, loss: number) => {
        const el = (performance.now() - t0) / 1000
        opts.onProgress?.({
          stage: task.series.stage,
          epoch: task.series.epoch,
          step: nb,
          totalSteps: nBatches,
          loss,
          tokensPerSec: tokens / Math.max(el, 1e-9),
          ...clock.at(ti, { kind: task.kind, tokens, sec: el }),
        })
      }
      if (task.kind === 'content' && content.docs.length > 0) {
        const key: OptKey = task.stage === 'finetune' ? 'contentFt' : 'content'
        const bs = batches(rng.shuffle([...content.docs]), config.batchSize, rng, (d) => d.ids.length)
        for (const docs of bs) {
          signal?.throwIfAborted()
          const loss = step('content', key, () => docLoss('content', docs))
          tokens += docs.reduce((s, d) => s + d.ids.length, 0)
          lossSum += loss
          nb++
          report(bs.length, loss)
        }
      } else if (task.kind === 'collab') {
        const set = buildCollabDocs(data, tok, config, rng, maxLength)
        collabTruncated = Math.max(collabTruncated, set.truncated)
        const bs = batches(rng.shuffle(set.docs), config.batchSize, rng, (d) => d.ids.length)
        for (const docs of bs) {
          signal?.throwIfAborted()
          const loss = step('collab', 'collab', () => docLoss('collab', docs))
          tokens += docs.reduce((s, d) => s + d.ids.length, 0)
          lossSum += loss
          nb++
          report(bs.length, loss)
        }
      } else if (task.kind === 'rec') {
        const ex = rng.shuffle(buildRecExamples(data, tok, config, rng, maxLength))
        const bs = batches(ex, config.batchSize, rng, (e) => e.prompt.length)
        for (const b of bs) {
          signal?.throwIfAborted()
          const p = packPrompts(b.map((e) => e.prompt))
          const rows = batchRows(
            b.map((e) => ({ users: [e.user], items: [...e.promptItems, ...e.targets] })),
            perDoc,
          )
          const loss = step('collab', 'rec', () =>
            tf.tidy(() =>
              model
                .recLoss(
                  p,
                  b.map((e) => e.targets),
                )
                .add(
                  model.mutualLoss(
                    'collab',
                    rows.users,
                    rows.items,
                    b.length,
                    config.lambdaC,
                    config.lambdaL,
                    perDoc,
                  ),
                ),
            ),
          )
          tokens += p.B * p.T
          lossSum += loss
          nb++
          report(bs.length, loss)
        }
      }
      const secs = (performance.now() - t0) / 1000
      if (tokens > 0) {
        timer.record(`${task.stage}:${task.kind}`, tokens, secs)
        clock.record(task.kind, tokens, secs)
      }
      const entry: TrainResult['history'][number] = {
        task: ti,
        stage: task.stage,
        kind: task.kind,
        epoch: task.epoch,
        loss: nb ? lossSum / nb : NaN,
      }
      if (task.validate) {
        const m = await evaluate(session, data, 'val', { signal })
        entry.val = m
        // Validation scores the RecLLM (also when it follows a finetuning C-epoch): finetune series.
        opts.onMetric?.({ stage: 'finetune', epoch: task.epoch, split: 'val', metrics: { ...m } })
        const score = selectionScore(m)
        if (!best || score > best.score) {
          best = {
            score,
            metrics: m,
            zlUser: model.zlUser.dataSync() as Float32Array,
            zlItem: model.zlItem.dataSync() as Float32Array,
          }
        }
      }
      history.push(entry)
      log(
        `${task.stage} ${task.kind} epoch ${task.epoch}: loss ${entry.loss.toFixed(4)}${entry.val ? ` val R@20 ${entry.val.recall20.toFixed(4)}` : ''}`,
      )
      if (opts.sink) await opts.sink.save(await snapshot(ti + 1, task.stage))
    }
    if (best) {
      // Model selection: the collaborative tables of the best validation epoch.
      const b = best
      tf.tidy(() => {
        model.zlUser.assign(tf.tensor(b.zlUser, model.zlUser.shape))
        model.zlItem.assign(tf.tensor(b.zlItem, model.zlItem.shape))
      })
    }
    const test = opts.skipTest ? null : await evaluate(session, data, 'test', { signal })
    if (test) opts.onMetric?.({ stage: 'final', epoch: 0, split: 'test', metrics: { ...test } })
    return {
      session,
      val: best?.metrics ?? null,
      test,
      history,
      stages: timer.summary(),
      truncated: { content: content.truncated, collab: collabTruncated },
      resumedFrom,
    }
  } catch (e) {
    session.dispose()
    throw e
  } finally {
    for (const k of OPT_KEYS) opt[k].dispose()
  }

  function docLoss(side: Side, docs: Doc[]): tf.Scalar {
    return tf.tidy(() => {
      const batch = packBatch(docs, config.predictFirstMainToken)
      const rows = batchRows(docs, perDoc)
      const lm = side === 'collab' ? model.collabLoss(batch) : model.contentLoss(batch)
      return lm.add(
        model.mutualLoss(side, rows.users, rows.items, docs.length, config.lambdaC, config.lambdaL, perDoc),
      )
    })
  }

  async function snapshot(stepDone: number, stage: string): Promise<Checkpoint> {
    const tensors: Record<string, StoredTensor> = {}
    for (const [name, v] of Object.entries(model.tables())) {
      tensors[name] = { shape: v.shape, data: Float32Array.from(v.dataSync() as Float32Array) }
    }
    const optimizerTensors: Record<string, number> = {}
    for (const k of OPT_KEYS) {
      const st = await optimizerState(opt[k])
      optimizerTensors[k] = st.length
      st.forEach((t, i) => (tensors[`opt/${k}/${i}`] = t))
    }
    if (best) {
      tensors['best/zl_user'] = { shape: model.zlUser.shape, data: best.zlUser }
      tensors['best/zl_item'] = { shape: model.zlItem.shape, data: best.zlItem }
    }
    return {
      formatVersion: CHECKPOINT_FORMAT_VERSION,
      config,
      seed: config.seed,
      dataHash: data.hash,
      backend: backendInfo()?.name ?? tf.getBackend(),
      stage: stepDone >= tasks.length ? 'done' : stage,
      step: stepDone,
      rngState: rng.state,
      extra: {
        optimizerTensors,
        history,
        collabTruncated,
        best: best ? { score: best.score, metrics: best.metrics } : null,
        backboneDir: backbone.dir,
        totalTasks: tasks.length,
      },
      tensors,
      savedAt: new Date().toISOString(),
    }
  }
}
