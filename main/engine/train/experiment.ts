// One experiment = CLLM4Rec plus every baseline on the same split, scored by the same evaluator and
// labelled with the split protocol (CLLM4REC.md §7). This is what the CLI `train` command, the quality
// benchmark and the workbench's run worker call. A run folder holds config, backbone reference,
// checkpoints, the selected embeddings (model.bin) and metrics.json; `openRun` reloads it.
import fs from 'node:fs'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import type { RecDataset } from '../../data/types'
import { backendInfo, backendLabel } from '../backend'
import { fitEaseOnValidation, EASE_LAMBDA_GRID } from '../baselines/ease'
import { MultVae } from '../baselines/mult-vae'
import { MULT_VAE_EPOCHS } from '../baselines/mult-vae-epochs'
import { Popularity } from '../baselines/popularity'
import type { Cllm4recConfig } from '../cllm4rec/config'
import { Cllm4recModel } from '../cllm4rec/model'
import { Cllm4recSession } from '../cllm4rec/session'
import { trainCllm4rec, type TrainResult } from '../cllm4rec/trainer'
import { ExtendedTokenizer, SoftVocab } from '../cllm4rec/vocab'
import { evaluate, type EvalSplit } from '../eval/evaluate'
import type { RankingMetrics } from '../eval/metrics'
import { loadGpt2 } from '../gpt2/model'
import {
  decodeCheckpoint,
  encodeCheckpoint,
  FsCheckpointSink,
  writeFileAtomic,
  CHECKPOINT_FORMAT_VERSION,
} from './checkpoint'
import type { CheckpointSink } from './checkpoint'
import type { TrainCallbacks } from './progress'

export interface ResultRow {
  model: string
  recall20: number
  recall40: number
  ndcg100: number
  /** Selected hyperparameters and notes. */
  note: string
  /** The short setting that tells two rows of one model apart (EASE's λ, Mult-VAE's epochs). */
  setting?: string
  seconds: number
}

export interface BaselineOptions {
  popularity?: boolean
  ease?: boolean
  easeGrid?: number[]
  multVae?: boolean
  multVaeEpochs?: number
  /** Seed of Mult-VAE's init, shuffles, dropout and sampling (default 1). */
  multVaeSeed?: number
}

export interface ExperimentResult {
  dataset: string
  synthetic: boolean
  /** Every row was produced under this protocol. */
  protocol: string
  rows: ResultRow[]
  /** The backend that trained CLLM4Rec, with the GPU adapter for webgpu. */
  backend: string
  cllm4rec: Omit<TrainResult, 'session'> | null
}

const row = (model: string, m: RankingMetrics, note: string, seconds: number): ResultRow => ({
  model,
  recall20: m.recall20,
  recall40: m.recall40,
  ndcg100: m.ndcg100,
  note,
  seconds,
})

export function protocolLabel(data: RecDataset, split: EvalSplit = 'test'): string {
  return `${data.splitProtocol}; full ranking over ${data.itemIds.length} items, train (and val at test) excluded; ${split} split`
}

/**
 * Progress of one baseline: EASE a step per λ of its grid, Mult-VAE a step per epoch. etaSec covers what
 * is left of the whole call only in its last stage (Mult-VAE); before that it is NaN.
 */
export function baselineProgress(cb: TrainCallbacks, stage: string, total: number, last: boolean) {
  const t0 = performance.now()
  return (done: number, loss: number): void => {
    const perStep = (performance.now() - t0) / 1000 / done
    cb.onProgress?.({
      stage,
      epoch: done - 1,
      step: done,
      totalSteps: total,
      loss,
      tokensPerSec: NaN,
      etaSec: last ? perStep * (total - done) : NaN,
      fraction: done / total,
    })
  }
}

export async function runBaselines(
  data: RecDataset,
  o: BaselineOptions = {},
  cb: TrainCallbacks = {},
): Promise<ResultRow[]> {
  const rows: ResultRow[] = []
  const log = (m: string) => cb.onLog?.(m)
  const vae = o.multVae ?? true
  if (o.popularity ?? true) {
    const t = performance.now()
    const m = await evaluate(new Popularity(data), data, 'test', { signal: cb.signal })
    rows.push(row('Popularity', m, '', (performance.now() - t) / 1000))
  }
  if (o.ease ?? true) {
    const t = performance.now()
    const grid = o.easeGrid ?? EASE_LAMBDA_GRID
    const progress = baselineProgress(cb, 'EASE', grid.length, !vae)
    let done = 0
    const sel = await fitEaseOnValidation(data, grid, {
      signal: cb.signal,
      onLambda: (l, m) => {
        log(`EASE λ=${l}: val R@20 ${m.recall20.toFixed(4)}`)
        progress(++done, NaN)
      },
    })
    const m = await evaluate(sel.model, data, 'test', { signal: cb.signal })
    rows.push({
      ...row(
        'EASE',
        m,
        `λ=${sel.lambda} (val-selected from ${grid.join('/')})`,
        (performance.now() - t) / 1000,
      ),
      setting: `λ=${sel.lambda}`,
    })
  }
  if (vae) {
    const t = performance.now()
    const epochs = o.multVaeEpochs ?? MULT_VAE_EPOCHS
    const progress = baselineProgress(cb, 'Mult-VAE', epochs, true)
    const r = await MultVae.fit(data, {
      epochs,
      seed: o.multVaeSeed,
      signal: cb.signal,
      onEpoch: (e, loss, v) => {
        log(`Mult-VAE epoch ${e}: loss ${loss.toFixed(3)} val R@20 ${v.recall20.toFixed(4)}`)
        progress(e + 1, loss)
      },
    })
    const m = await evaluate(r.model, data, 'test', { signal: cb.signal })
    r.model.dispose()
    rows.push({
      ...row(
        'Mult-VAE',
        m,
        `best epoch ${r.bestEpoch + 1}/${epochs} on val, seed ${o.multVaeSeed ?? 1}`,
        (performance.now() - t) / 1000,
      ),
      setting: `${epochs} epochs`,
    })
  }
  return rows
}

export interface ExperimentOptions extends TrainCallbacks {
  config: Readonly<Cllm4recConfig>
  baselines?: BaselineOptions | false
  /** Run folder (config, backbone, checkpoints, model.bin, metrics.json). */
  outDir?: string
  /** How the dataset was named (stored in run.json so `recommend` can reload it). */
  datasetSpec?: string
  sink?: CheckpointSink
}

export async function runExperiment(
  data: RecDataset,
  o: ExperimentOptions,
): Promise<ExperimentResult & { session: Cllm4recSession }> {
  if (o.outDir) {
    fs.mkdirSync(o.outDir, { recursive: true })
    writeFileAtomic(path.join(o.outDir, 'config.json'), JSON.stringify(o.config, null, 2))
  }
  const t = performance.now()
  const sink = o.sink ?? (o.outDir ? new FsCheckpointSink(path.join(o.outDir, 'checkpoints')) : undefined)
  const backboneDir =
    o.outDir && o.config.backbone === 'scratch' ? path.join(o.outDir, 'backbone') : undefined
  const r = await trainCllm4rec(data, o.config, { ...o, sink, backboneDir })
  const rows: ResultRow[] = []
  const { session, ...rest } = r
  if (r.test)
    rows.push(
      row('CLLM4Rec', r.test, `${o.config.backbone} backbone, val-selected`, (performance.now() - t) / 1000),
    )
  if (o.baselines !== false) rows.push(...(await runBaselines(data, o.baselines ?? {}, o)))
  const result: ExperimentResult = {
    dataset: data.name,
    synthetic: data.synthetic,
    protocol: protocolLabel(data),
    rows,
    backend: currentBackendLabel(),
    cllm4rec: rest,
  }
  if (o.outDir) {
    await saveModel(path.join(o.outDir, 'model.bin'), session, data)
    writeFileAtomic(
      path.join(o.outDir, 'run.json'),
      JSON.stringify(
        {
          dataset: o.datasetSpec ?? data.name,
          dataHash: data.hash,
          backboneDir: path.resolve(session.backboneDir),
        },
        null,
        2,
      ),
    )
    writeFileAtomic(path.join(o.outDir, 'metrics.json'), JSON.stringify(result, null, 2))
  }
  return { ...result, session }
}

/** The backend (and GPU adapter) that ran, as runs and checkpoints record it. */
function currentBackendLabel(): string {
  const info = backendInfo()
  return info ? backendLabel(info) : tf.getBackend()
}

/** The selected embeddings as a checkpoint-format file. */
export async function saveModel(file: string, s: Cllm4recSession, data: RecDataset): Promise<void> {
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {}
  for (const [k, v] of Object.entries(s.model.tables()))
    tensors[k] = { shape: v.shape, data: Float32Array.from((await v.data()) as Float32Array) }
  writeFileAtomic(
    file,
    encodeCheckpoint({
      formatVersion: CHECKPOINT_FORMAT_VERSION,
      config: s.config,
      seed: s.config.seed,
      dataHash: data.hash,
      backend: currentBackendLabel(),
      stage: 'done',
      step: 0,
      rngState: 0,
      extra: { backboneDir: path.resolve(s.backboneDir) },
      tensors,
      savedAt: new Date().toISOString(),
    }),
  )
}

/** Reopens a run folder written by runExperiment for inference. */
export async function openRun(dir: string, data: RecDataset): Promise<Cllm4recSession> {
  const file = path.join(dir, 'model.bin')
  if (!fs.existsSync(file)) throw new Error(`${dir}: no model.bin (not a finished run folder)`)
  const ck = decodeCheckpoint(fs.readFileSync(file), file)
  if (ck.dataHash !== data.hash) throw new Error(`${file}: field dataHash does not match the dataset`)
  const backboneDir = ck.extra.backboneDir as string
  const { model: backbone, tokenizer } = await loadGpt2(backboneDir)
  const config = ck.config as Cllm4recConfig
  const vocab = new SoftVocab(backbone.config.vocabSize, data.userIds.length, data.itemIds.length)
  const model = new Cllm4recModel(backbone, vocab, config.initStd, config.seed)
  for (const [name, v] of Object.entries(model.tables())) {
    const t = ck.tensors[name]
    if (!t || t.data.length !== v.size) throw new Error(`${file}: tensor ${name} missing or wrong size`)
    tf.tidy(() => v.assign(tf.tensor(t.data, v.shape)))
  }
  return new Cllm4recSession(model, new ExtendedTokenizer(tokenizer, vocab), config, data, backboneDir)
}
