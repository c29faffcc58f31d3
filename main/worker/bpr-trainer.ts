// BPR matrix factorisation (Rendle et al. 2009) in plain typed arrays: the worker's self-check trainer.
// It exercises the whole run path (progress, metrics, checkpoints, cancel, resume, evaluation with the
// shared evaluator) in seconds on any backend, so queue and protocol tests do not need the LLM.
import type { Metrics } from '../../preload/api'
import { mulberry32 } from '../data/prng'
import { evaluate } from '../engine/eval/evaluate'
import { CancelledError, type Trainer, type TrainerContext } from './trainer'

export const BPR_FORMAT = 'bpr-mf v1'

interface BprConfig {
  epochs: number
  dim: number
  lr: number
  reg: number
  /** Wait between steps in ms (0 = none); lets tests hold a run open long enough to cancel it. */
  stepDelayMs: number
  checkpointEvery: number
}

function readConfig(c: Record<string, unknown>): BprConfig {
  const num = (k: string, d: number): number => {
    const v = c[k] ?? d
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new Error(`bpr config: '${k}' must be a number >= 0`)
    return v
  }
  return {
    epochs: Math.max(1, Math.round(num('epochs', 5))),
    dim: Math.max(1, Math.round(num('dim', 16))),
    lr: num('lr', 0.05),
    reg: num('reg', 0.01),
    stepDelayMs: num('stepDelayMs', 0),
    checkpointEvery: Math.max(1, Math.round(num('checkpointEvery', 1))),
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

const BATCH = 256

export const bprTrainer: Trainer = async (ctx: TrainerContext) => {
  const cfg = readConfig(ctx.config)
  const d = ctx.dataset
  const nU = d.userIds.length
  const nI = d.itemIds.length
  const rand = mulberry32(ctx.seed)
  // Drawn even on resume, so the sampler's stream is the same as an uninterrupted run's from here on.
  const init = (n: number) => new Float32Array(n * cfg.dim).map(() => (rand() - 0.5) * 0.1)
  const f: Factors = { U: init(nU), V: init(nI), dim: cfg.dim }
  const startEpoch = ctx.resume ? restore(ctx, f, nU, nI) : 0
  const pairs: [number, number][] = []
  d.train.forEach((items, u) => items.forEach((i) => pairs.push([u, i])))
  const trainSets = d.train.map((items) => new Set(items))
  const stepsPerEpoch = Math.max(1, Math.ceil(pairs.length / BATCH))
  const totalSteps = cfg.epochs * stepsPerEpoch
  const started = Date.now()
  let done = 0
  for (let epoch = startEpoch; epoch < cfg.epochs; epoch++) {
    let lossSum = 0
    for (let step = 0; step < stepsPerEpoch; step++) {
      if (ctx.signal.aborted) throw new CancelledError()
      for (let s = 0; s < BATCH; s++) {
        const [u, i] = pairs[Math.floor(rand() * pairs.length)]
        let j = Math.floor(rand() * nI)
        for (let t = 0; t < 10 && trainSets[u].has(j); t++) j = Math.floor(rand() * nI)
        lossSum += sgdStep(f, u, i, j, cfg)
      }
      done++
      const globalStep = epoch * stepsPerEpoch + step + 1
      const rate = done / Math.max((Date.now() - started) / 1000, 1e-3)
      ctx.progress({
        stage: 'collaborative',
        epoch,
        step: globalStep,
        totalSteps,
        fraction: globalStep / totalSteps,
        loss: lossSum / ((step + 1) * BATCH),
        tokensPerSec: rate * BATCH,
        etaSec: (totalSteps - globalStep) / rate,
      })
      if (cfg.stepDelayMs > 0) await sleep(cfg.stepDelayMs)
    }
    const step = (epoch + 1) * stepsPerEpoch
    ctx.metric({
      stage: 'collaborative',
      step,
      epoch,
      name: 'loss',
      value: lossSum / (stepsPerEpoch * BATCH),
    })
    if ((epoch + 1) % cfg.checkpointEvery === 0 || epoch + 1 === cfg.epochs) {
      await ctx.checkpoint({
        stage: 'collaborative',
        epoch: epoch + 1,
        step,
        format: BPR_FORMAT,
        meta: { dim: cfg.dim },
        tensors: [
          { name: 'user', shape: [nU, cfg.dim], data: f.U.slice() },
          { name: 'item', shape: [nI, cfg.dim], data: f.V.slice() },
        ],
      })
    }
  }
  const scorer = factorScorer(f, nI)
  const val = headline(await evaluate(scorer, d, 'val', { signal: ctx.signal }))
  const test = headline(await evaluate(scorer, d, 'test', { signal: ctx.signal }))
  for (const [name, value] of Object.entries(test)) {
    ctx.metric({ stage: 'eval', step: totalSteps, epoch: cfg.epochs, name: `test.${name}`, value })
  }
  return { test, val, backend: 'js' }
}

interface Factors {
  U: Float32Array
  V: Float32Array
  dim: number
}

/** Loads the checkpoint's factors into `f` and returns the epoch to go on from. */
function restore(ctx: TrainerContext, f: Factors, nU: number, nI: number): number {
  const r = ctx.resume!
  if (r.format !== BPR_FORMAT) throw new Error(`cannot resume from a '${r.format}' checkpoint`)
  const byName = new Map(r.tensors.map((t) => [t.name, t]))
  const u = byName.get('user')
  const v = byName.get('item')
  if (!u || !v || u.shape.join() !== `${nU},${f.dim}` || v.shape.join() !== `${nI},${f.dim}`) {
    throw new Error(`checkpoint does not match this run's shapes [${nU}|${nI}, ${f.dim}]`)
  }
  f.U = u.data.slice()
  f.V = v.data.slice()
  return r.epoch
}

/** One SGD step on the triple (u prefers i to j); returns its BPR loss. */
function sgdStep(f: Factors, u: number, i: number, j: number, cfg: BprConfig): number {
  const { U, V, dim } = f
  let x = 0
  for (let k = 0; k < dim; k++) x += U[u * dim + k] * (V[i * dim + k] - V[j * dim + k])
  const sig = 1 / (1 + Math.exp(x))
  for (let k = 0; k < dim; k++) {
    const uf = U[u * dim + k]
    const vi = V[i * dim + k]
    const vj = V[j * dim + k]
    U[u * dim + k] += cfg.lr * (sig * (vi - vj) - cfg.reg * uf)
    V[i * dim + k] += cfg.lr * (sig * uf - cfg.reg * vi)
    V[j * dim + k] += cfg.lr * (-sig * uf - cfg.reg * vj)
  }
  return Math.log1p(Math.exp(-x))
}

function factorScorer(f: Factors, nI: number) {
  const { U, V, dim } = f
  return {
    scoreUsers(users: number[]): Float32Array {
      const out = new Float32Array(users.length * nI)
      users.forEach((u, r) => {
        for (let i = 0; i < nI; i++) {
          let s = 0
          for (let k = 0; k < dim; k++) s += U[u * dim + k] * V[i * dim + k]
          out[r * nI + i] = s
        }
      })
      return out
    },
  }
}

const headline = (m: Metrics & { users?: number }): Metrics => ({
  recall20: m.recall20,
  recall40: m.recall40,
  ndcg100: m.ndcg100,
})
