// Training CLLM4Rec (CLLM4REC.md §5, §6): content warm-up, rounds of L-epoch + C-epoch with mutual
// regularisation, then RecLLM finetuning (masked prompting, alternating with C-epochs) with model
// selection on validation. The run is a flat list of epoch tasks; after each task a checkpoint holds
// everything needed to continue bit-for-bit (embeddings, Adam moments and β powers, PRNG state, best).
import * as tf from '@tensorflow/tfjs'
import type { RecDataset } from '../../data/types'
import {
  assertFitsBinding,
  backendInfo,
  backendLabel,
  checkGpu,
  releaseGpuPool,
  shapeBucket,
} from '../backend'
import { evaluate } from '../eval/evaluate'
import { adam } from '../fused-adam'
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
import { finetuneLr, scaledEpochs, type Cllm4recConfig } from './config'
import {
  batchRows,
  buildCollabDocs,
  buildContentDocs,
  buildRecExamples,
  EpochRowCounts,
  type RecExample,
} from './corpus'
import { packBatch, packPrompts, type Doc, type PackedBatch } from './documents'
import type { DropoutRates } from '../gpt2/model'
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
    /** Finetuning tasks: the learning rate they ran at (see lrFinetuneSchedule). */
    lr?: number
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
  const out: StoredTensor[] = []
  for (const t of all) out.push({ shape: t.shape, data: Float32Array.from((await t.data()) as Float32Array) })
  return out
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

/** Everything one run holds while its tasks execute (one object, so each stage reads on its own). */
interface RunState {
  data: RecDataset
  config: Readonly<Cllm4recConfig>
  opts: TrainOptions
  tasks: ReturnType<typeof planTasks>
  clock: RunClock
  backbone: LoadedBackbone
  tok: ExtendedTokenizer
  model: Cllm4recModel
  session: Cllm4recSession
  maxLength: number
  rng: Rng
  perDoc: boolean
  /** 'per-epoch' scaling: the current epoch's batch count of each row (null otherwise). */
  epochRows: EpochRowCounts | null
  content: { docs: Doc[]; truncated: number }
  opt: Record<OptKey, tf.AdamOptimizer>
  timer: StageTimer
  history: TrainResult['history']
  best: { score: number; metrics: RankingMetrics; zlUser: Float32Array; zlItem: Float32Array } | null
  collabTruncated: number
  startTask: number
  resumedFrom: number | null
}

export async function trainCllm4rec(
  data: RecDataset,
  config: Readonly<Cllm4recConfig>,
  opts: TrainOptions = {},
): Promise<TrainResult> {
  const run = await setUpRun(data, config, opts)
  const { session } = run
  try {
    await resumeFromCheckpoint(run)
    run.clock.contentTokens = run.content.docs.reduce((s, d) => s + d.ids.length, 0)
    run.clock.startTask = run.startTask
    for (let ti = run.startTask; ti < run.tasks.length; ti++) {
      opts.signal?.throwIfAborted()
      await runTask(run, ti)
      if (opts.sink) await opts.sink.save(await snapshot(run, ti + 1, run.tasks[ti].stage))
    }
    restoreBest(run)
    // Say so before the (possibly long) test evaluation, so a progress bar names it: every epoch
    // task is done (fraction 1), only the ranking of the test users is left.
    if (!opts.skipTest)
      opts.onProgress?.({
        stage: 'eval:test',
        epoch: 0,
        step: 0,
        totalSteps: 1,
        loss: NaN,
        tokensPerSec: 0,
        etaSec: 0,
        fraction: 1,
      })
    const test = opts.skipTest ? null : await evaluate(session, data, 'test', { signal: opts.signal })
    if (test) opts.onMetric?.({ stage: 'final', epoch: 0, split: 'test', metrics: { ...test } })
    return {
      session,
      val: run.best?.metrics ?? null,
      test,
      history: run.history,
      stages: run.timer.summary(),
      truncated: { content: run.content.truncated, collab: run.collabTruncated },
      resumedFrom: run.resumedFrom,
    }
  } catch (e) {
    session.dispose()
    throw e
  } finally {
    for (const k of OPT_KEYS) run.opt[k].dispose()
  }
}

/** Backbone (scratch or HF), tokenizer, model, content corpus and the four optimizers. */
async function setUpRun(
  data: RecDataset,
  config: Readonly<Cllm4recConfig>,
  opts: TrainOptions,
): Promise<RunState> {
  const log = (m: string) => opts.onLog?.(m)
  const tasks = planTasks(config)
  const clock = new RunClock(tasks, data, config.scratch.epochs)
  const backbone =
    opts.backbone ??
    (await prepareBackbone(data, config, {
      dir: opts.backboneDir,
      onLog: log,
      signal: opts.signal,
      onProgress: (p) =>
        opts.onProgress?.({
          stage: 'backbone',
          epoch: p.epoch,
          step: p.step,
          totalSteps: p.totalSteps,
          loss: p.loss,
          tokensPerSec: p.tokensPerSec,
          ...clock.duringBackbone(p.etaSec, p.tokensPerSec),
        }),
    }))
  try {
    checkGpuSizes(config, backbone, data.itemIds.length)
  } catch (e) {
    if (!opts.backbone) backbone.model.dispose()
    throw e
  }
  const vocab = new SoftVocab(backbone.model.config.vocabSize, data.userIds.length, data.itemIds.length)
  const tok = new ExtendedTokenizer(backbone.tokenizer, vocab)
  const model = new Cllm4recModel(backbone.model, vocab, config.initStd, config.seed)
  model.dropoutRates = dropoutRates(config, backbone)
  const session = new Cllm4recSession(model, tok, config, data, backbone.dir)
  const maxLength = session.maxLength
  const content = buildContentDocs(data, tok, config, maxLength)
  if (content.docs.length === 0 && tasks.some((t) => t.kind === 'content')) {
    log('no content documents (no reviews or texts): content epochs are skipped')
  }
  return {
    data,
    config,
    opts,
    tasks,
    clock,
    backbone,
    tok,
    model,
    session,
    maxLength,
    rng: new Rng(config.seed),
    perDoc: config.mutualScaling !== 'official-sum',
    epochRows: null,
    content,
    opt: {
      collab: adam(config.lrPretrain),
      content: adam(config.lrPretrain),
      rec: adam(config.lrFinetune),
      contentFt: adam(config.lrFinetune),
    },
    timer: new StageTimer(),
    history: [],
    best: null,
    collabTruncated: 0,
    startTask: 0,
    resumedFrom: null,
  }
}

/** The run's largest single tensors against the GPU's binding limit (webgpu only), before any step. */
function checkGpuSizes(config: Readonly<Cllm4recConfig>, backbone: LoadedBackbone, items: number): void {
  const { vocabSize, nEmbd, nHead, nPositions } = backbone.model.config
  const maxLength = Math.min(config.maxLength, nPositions)
  assertFitsBinding(
    `the backbone's token embeddings [${vocabSize}, ${nEmbd}]`,
    vocabSize * nEmbd * 4,
    'use a smaller backbone or another backend',
  )
  const B = config.batchSize
  assertFitsBinding(`the RecLLM item logits [${B}, ${items}]`, B * items * 4, 'lower batchSize')
  assertFitsBinding(
    `the attention scores [${B}, ${nHead}, ${maxLength}, ${maxLength}]`,
    B * nHead * maxLength * maxLength * 4,
    'lower batchSize or maxLength',
  )
}

/** Training-step dropout: the config's rate for all three sites, else the backbone's own pdrop. */
function dropoutRates(config: Readonly<Cllm4recConfig>, backbone: LoadedBackbone): DropoutRates | null {
  const own = backbone.model.config.dropout ?? { embd: 0.1, attn: 0.1, resid: 0.1 }
  const r =
    config.dropout === null ? own : { embd: config.dropout, attn: config.dropout, resid: config.dropout }
  return r.embd > 0 || r.attn > 0 || r.resid > 0 ? r : null
}

/** Continue from the sink's latest checkpoint when it belongs to this run. */
async function resumeFromCheckpoint(run: RunState): Promise<void> {
  const ckpt = run.opts.sink ? await run.opts.sink.loadLatest() : null
  if (!ckpt) return
  if (ckpt.dataHash !== run.data.hash)
    throw new Error(`checkpoint: field dataHash ${ckpt.dataHash} does not match the dataset ${run.data.hash}`)
  if (JSON.stringify(ckpt.config) !== JSON.stringify(run.config))
    throw new Error('checkpoint: field config differs from this run')
  for (const [name, v] of Object.entries(run.model.tables())) {
    const t = ckpt.tensors[name]
    if (!t || t.data.length !== v.size) throw new Error(`checkpoint: tensor ${name} missing or wrong size`)
    tf.tidy(() => v.assign(tf.tensor(t.data, v.shape)))
  }
  for (const k of OPT_KEYS) {
    const n = (ckpt.extra.optimizerTensors as Record<string, number>)[k]
    await restoreOptimizer(
      run.opt[k],
      Array.from({ length: n }, (_, i) => ckpt.tensors[`opt/${k}/${i}`]),
    )
  }
  run.rng.state = ckpt.rngState
  run.startTask = ckpt.step
  run.resumedFrom = ckpt.step
  run.history.push(...(ckpt.extra.history as TrainResult['history']))
  run.collabTruncated = ckpt.extra.collabTruncated as number
  const b = ckpt.extra.best as { score: number; metrics: RankingMetrics } | null
  if (b)
    run.best = { ...b, zlUser: ckpt.tensors['best/zl_user'].data, zlItem: ckpt.tensors['best/zl_item'].data }
  run.opts.onLog?.(`resumed from checkpoint at task ${run.startTask}/${run.tasks.length}`)
}

/** Per-epoch counters and the progress report of the running task. */
class EpochMeter {
  private readonly t0 = performance.now()
  tokens = 0
  lossSum = 0
  batches = 0

  constructor(
    private readonly run: RunState,
    private readonly ti: number,
  ) {}

  add(tokens: number, loss: number, totalBatches: number): void {
    this.tokens += tokens
    this.lossSum += loss
    this.batches++
    const task = this.run.tasks[this.ti]
    const el = this.seconds()
    this.run.opts.onProgress?.({
      stage: task.series.stage,
      epoch: task.series.epoch,
      step: this.batches,
      totalSteps: totalBatches,
      loss,
      tokensPerSec: this.tokens / Math.max(el, 1e-9),
      ...this.run.clock.at(this.ti, { kind: task.kind, tokens: this.tokens, sec: el }),
    })
  }

  seconds(): number {
    return (performance.now() - this.t0) / 1000
  }
}

/** One epoch task: its batches, timing, validation (finetuning) and the history entry. */
async function runTask(run: RunState, ti: number): Promise<void> {
  const task = run.tasks[ti]
  const meter = new EpochMeter(run, ti)
  const lr = task.stage === 'finetune' ? setFinetuneLr(run, ti) : undefined
  if (task.kind === 'content' && run.content.docs.length > 0)
    await contentEpoch(run, task.stage === 'finetune' ? 'contentFt' : 'content', meter)
  else if (task.kind === 'collab') await collabEpoch(run, meter)
  else if (task.kind === 'rec') await recEpoch(run, meter)
  // Each task has other shapes: pooled GPU buffers of the last one are freed (webgpu only).
  releaseGpuPool()
  const secs = meter.seconds()
  if (meter.tokens > 0) {
    run.timer.record(`${task.stage}:${task.kind}`, meter.tokens, secs)
    run.clock.record(task.kind, meter.tokens, secs)
  }
  const entry: TrainResult['history'][number] = {
    task: ti,
    stage: task.stage,
    kind: task.kind,
    epoch: task.epoch,
    loss: meter.batches ? meter.lossSum / meter.batches : NaN,
    ...(lr === undefined ? {} : { lr }),
  }
  if (task.validate) {
    // Validation is indexed by the RecLLM epoch it scores (also after a finetuning C-epoch).
    entry.val = await validateAndSelect(run, recEpochOf(run, ti))
  }
  run.history.push(entry)
  run.opts.onLog?.(
    `${task.stage} ${task.kind} epoch ${task.epoch}: loss ${entry.loss.toFixed(4)}${entry.val ? ` val R@20 ${entry.val.recall20.toFixed(4)}` : ''}`,
  )
}

/** The RecLLM epoch a finetuning task belongs to (a C-epoch follows its RecLLM epoch). */
function recEpochOf(run: RunState, ti: number): number {
  for (let i = ti; i >= 0; i--) if (run.tasks[i].kind === 'rec') return run.tasks[i].epoch
  return 0
}

/** Both finetuning optimizers at the schedule's rate for this task (from the task, so a resume agrees). */
function setFinetuneLr(run: RunState, ti: number): number {
  const lr = finetuneLr(run.config, recEpochOf(run, ti), scaledEpochs(run.config).finetune)
  for (const k of ['rec', 'contentFt'] as const)
    (run.opt[k] as unknown as { learningRate: number }).learningRate = lr
  return lr
}

/**
 * One optimizer step on the side's tables, its loss the sum of `parts` (micro-batches of one batch, see
 * microBatches): each part's gradients are taken in turn and summed, then Adam steps once. Dropout masks
 * are seeded from the run's PRNG, one seed a step and one derived a part (a resumed run draws the same
 * ones), and exist only inside the step: evaluation is deterministic. The losses are read back after the
 * update, awaited (a GPU backend has no synchronous readback).
 */
async function step(run: RunState, side: Side, key: OptKey, parts: (() => tf.Scalar)[]): Promise<number> {
  const vars = run.model.vars(side)
  // One draw a step whatever the number of parts, so cutting a batch leaves the run's PRNG stream as is.
  const seed = run.rng.int(0x7fffffff)
  const values: tf.Scalar[] = []
  let sum: tf.NamedTensorMap | null = null
  try {
    for (const [i, part] of parts.entries()) {
      run.model.setTrainingStep((seed + i * 0x9e3779b1) % 0x7fffffff)
      try {
        const { value, grads } = tf.variableGrads(part, vars)
        values.push(value)
        sum = sum ? addGrads(sum, grads) : grads
      } finally {
        run.model.setTrainingStep(null)
      }
    }
    // In the variables' order, a missing gradient included (as minimize does): Adam's slots go by position.
    const grads = sum as tf.NamedTensorMap | null
    if (grads) run.opt[key].applyGradients(vars.map((x) => ({ name: x.name, tensor: grads[x.name] })))
  } finally {
    if (sum) tf.dispose(Object.values(sum))
  }
  // Read back after the update, as with minimize: on webgpu a readback between the gradients and Adam
  // left Dawn's compute pass open ("Command buffer recording ended before [ComputePassEncoder] was ended").
  let v = 0
  try {
    for (const value of values) v += (await value.data())[0]
  } finally {
    tf.dispose(values)
  }
  checkGpu()
  if (!Number.isFinite(v)) throw new Error(`training diverged: loss ${v} (${key})`)
  return v
}

/** a + b per variable; both maps are disposed. */
function addGrads(a: tf.NamedTensorMap, b: tf.NamedTensorMap): tf.NamedTensorMap {
  const out: tf.NamedTensorMap = {}
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)]))
    out[k] = a[k] && b[k] ? tf.add(a[k], b[k]) : (a[k] ?? b[k]).clone()
  tf.dispose([...Object.values(a), ...Object.values(b)])
  return out
}

/** Activation bytes one forward + backward keeps for B documents of T tokens (rough, see microBatches). */
function stepBytes(run: RunState, B: number, T: number): number {
  const { nEmbd, nHead, nLayer } = run.backbone.model.config
  return 4 * B * T * nLayer * (40 * nEmbd + 30 * nHead * T)
}

/** What one micro-batch may keep: wasm's whole heap is 4 GiB, the tables and Adam's moments live there too. */
const STEP_BYTES_BUDGET = 1.5 * 2 ** 30
let stepBytesBudget = STEP_BYTES_BUDGET

/** Tests only: a smaller micro-batch budget (cuts every batch); undefined restores the default. */
export function setStepBytesBudget(bytes: number | undefined): void {
  stepBytesBudget = bytes ?? STEP_BYTES_BUDGET
}

/**
 * A batch cut into consecutive micro-batches whose step fits the budget: `batchSize` stays the
 * optimisation batch, whatever its memory. Batches are sorted by length (see batches), so the cut falls
 * where documents get long. Most batches are one piece; Beauty's longest 320 collaborative documents
 * (113 tokens, 2.5 GiB of activations by this estimate, 2.6 GiB measured with `bench heads`) are two.
 */
function microBatches<T>(run: RunState, xs: T[], len: (x: T) => number): T[][] {
  const out: T[][] = []
  let cur: T[] = []
  let maxT = 0
  for (const x of xs) {
    const t = Math.max(maxT, len(x))
    if (cur.length > 0 && stepBytes(run, cur.length + 1, t) > stepBytesBudget) {
      out.push(cur)
      cur = []
      maxT = 0
    }
    cur.push(x)
    maxT = Math.max(maxT, len(x))
  }
  if (cur.length > 0) out.push(cur)
  return out
}

/** C-epoch: content LLM loss + mutual term on z^c (warm-up, rounds, finetuning). */
async function contentEpoch(run: RunState, key: OptKey, meter: EpochMeter): Promise<void> {
  const bs = batches(
    run.rng.shuffle([...run.content.docs]),
    run.config.batchSize,
    run.rng,
    (d) => d.ids.length,
  )
  countEpochRows(run, bs, (d) => d)
  for (const docs of bs) {
    run.opts.signal?.throwIfAborted()
    const loss = await step(run, 'content', key, docLossParts(run, 'content', docs))
    meter.add(
      docs.reduce((s, d) => s + d.ids.length, 0),
      loss,
      bs.length,
    )
  }
}

/** L-epoch: collaborative LLM loss (items reshuffled this pass) + mutual term and prior on z^l. */
async function collabEpoch(run: RunState, meter: EpochMeter): Promise<void> {
  const set = buildCollabDocs(run.data, run.tok, run.config, run.rng, run.maxLength)
  run.collabTruncated = Math.max(run.collabTruncated, set.truncated)
  const bs = batches(run.rng.shuffle(set.docs), run.config.batchSize, run.rng, (d) => d.ids.length)
  countEpochRows(run, bs, (d) => d)
  for (const docs of bs) {
    run.opts.signal?.throwIfAborted()
    const loss = await step(run, 'collab', 'collab', docLossParts(run, 'collab', docs))
    meter.add(
      docs.reduce((s, d) => s + d.ids.length, 0),
      loss,
      bs.length,
    )
  }
}

/** RecLLM epoch: masked prompting, multinomial loss over the item head + mutual term on z^l. */
async function recEpoch(run: RunState, meter: EpochMeter): Promise<void> {
  const { config, model } = run
  const ex = run.rng.shuffle(buildRecExamples(run.data, run.tok, config, run.rng, run.maxLength))
  const bs = batches(ex, config.batchSize, run.rng, (e) => e.prompt.length)
  countEpochRows(run, bs, recRows)
  for (const b of bs) {
    run.opts.signal?.throwIfAborted()
    const parts = microBatches(run, b, (e) => e.prompt.length).map((part) => ({
      p: packPrompts(
        part.map((e) => e.prompt),
        { bucket: shapeBucket(), maxT: run.maxLength },
      ),
      targets: part.map((e) => e.targets),
    }))
    // Mean over the batch's users.
    const loss = await step(
      run,
      'collab',
      'rec',
      withMutual(
        run,
        'collab',
        b.map(recRows),
        parts.map(
          ({ p, targets }) =>
            () =>
              model.recLoss(p, targets, b.length),
        ),
      ),
    )
    meter.add(
      parts.reduce((s, { p }) => s + p.B * p.T, 0),
      loss,
      bs.length,
    )
  }
}

/** The LM loss (mean per main-text token over the whole batch) as one part per micro-batch. */
function docLossParts(run: RunState, side: Side, docs: Doc[]): (() => tf.Scalar)[] {
  const { config, model } = run
  const packed = microBatches(run, docs, (d) => d.ids.length).map((part) =>
    packBatch(part, config.predictFirstMainToken, { bucket: shapeBucket(), maxT: run.maxLength }),
  )
  const M = packed.reduce((s, b) => s + b.positions.length, 0)
  const lm = (b: PackedBatch) => (side === 'collab' ? model.collabLoss(b, M) : model.contentLoss(b, M))
  return withMutual(
    run,
    side,
    docs,
    packed.map((b) => () => lm(b)),
  )
}

/** The rows a RecLLM example's mutual term covers: its user, its prompt's items and its targets. */
function recRows(e: RecExample): { users: number[]; items: number[] } {
  return { users: [e.user], items: [...e.promptItems, ...e.targets] }
}

/** With 'per-epoch' scaling, each row's count of the epoch's batches, before the epoch's first step. */
function countEpochRows<T>(
  run: RunState,
  bs: T[][],
  rowsOf: (x: T) => { users: number[]; items: number[] },
): void {
  run.epochRows =
    run.config.mutualScaling === 'per-epoch' ? new EpochRowCounts(bs.map((b) => b.map(rowsOf))) : null
}

/** The batch's mutual term (over its unique rows, per document) added to the first of its LM parts. */
function withMutual(
  run: RunState,
  side: Side,
  docs: { users: number[]; items: number[] }[],
  lms: (() => tf.Scalar)[],
): (() => tf.Scalar)[] {
  const { config, model } = run
  const rows = batchRows(docs, run.perDoc)
  const weights = run.epochRows?.weights(rows)
  const mutual = () =>
    model.mutualLoss(
      side,
      rows.users,
      rows.items,
      docs.length,
      config.lambdaC,
      config.lambdaL,
      run.perDoc,
      weights,
    )
  return lms.map((lm, i) => () => tf.tidy(() => (i > 0 ? lm() : lm().add(mutual()))))
}

/** Validation of the RecLLM; keeps the collaborative tables of the best epoch (model selection). */
async function validateAndSelect(run: RunState, epoch: number): Promise<RankingMetrics> {
  const { model } = run
  const m = await evaluate(run.session, run.data, 'val', { signal: run.opts.signal })
  releaseGpuPool()
  // Validation scores the RecLLM (also when it follows a finetuning C-epoch): finetune series.
  run.opts.onMetric?.({ stage: 'finetune', epoch, split: 'val', metrics: { ...m } })
  const score = selectionScore(m)
  if (!run.best || score > run.best.score) {
    run.best = {
      score,
      metrics: m,
      zlUser: Float32Array.from((await model.zlUser.data()) as Float32Array),
      zlItem: Float32Array.from((await model.zlItem.data()) as Float32Array),
    }
  }
  return m
}

/** Model selection: put back the collaborative tables of the best validation epoch. */
function restoreBest(run: RunState): void {
  const b = run.best
  if (!b) return
  const { model } = run
  tf.tidy(() => {
    model.zlUser.assign(tf.tensor(b.zlUser, model.zlUser.shape))
    model.zlItem.assign(tf.tensor(b.zlItem, model.zlItem.shape))
  })
}

async function snapshot(run: RunState, stepDone: number, stage: string): Promise<Checkpoint> {
  const { model, best, config, tasks } = run
  const tensors: Record<string, StoredTensor> = {}
  for (const [name, v] of Object.entries(model.tables())) {
    tensors[name] = { shape: v.shape, data: Float32Array.from((await v.data()) as Float32Array) }
  }
  const optimizerTensors: Record<string, number> = {}
  for (const k of OPT_KEYS) {
    const st = await optimizerState(run.opt[k])
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
    dataHash: run.data.hash,
    backend: (() => {
      const info = backendInfo()
      return info ? backendLabel(info) : tf.getBackend()
    })(),
    stage: stepDone >= tasks.length ? 'done' : stage,
    step: stepDone,
    rngState: run.rng.state,
    extra: {
      optimizerTensors,
      history: run.history,
      collabTruncated: run.collabTruncated,
      best: best ? { score: best.score, metrics: best.metrics } : null,
      backboneDir: run.backbone.dir,
      totalTasks: tasks.length,
    },
    tensors,
    savedAt: new Date().toISOString(),
  }
}
