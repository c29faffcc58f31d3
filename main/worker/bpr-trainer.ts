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

export const bprTrainer: Trainer = async (ctx: TrainerContext) => {
  const cfg = readConfig(ctx.config)
  const d = ctx.dataset
  const nU = d.userIds.length
  const nI = d.itemIds.length
  const rand = mulberry32(ctx.seed)
  let U: Float32Array = new Float32Array(nU * cfg.dim).map(() => (rand() - 0.5) * 0.1)
  let V: Float32Array = new Float32Array(nI * cfg.dim).map(() => (rand() - 0.5) * 0.1)
  let startEpoch = 0
  if (ctx.resume) {
    if (ctx.resume.format !== BPR_FORMAT)
      throw new Error(`cannot resume from a '${ctx.resume.format}' checkpoint`)
    const byName = new Map(ctx.resume.tensors.map((t) => [t.name, t]))
    const u = byName.get('user'),
      v = byName.get('item')
    if (!u || !v || u.shape.join() !== `${nU},${cfg.dim}` || v.shape.join() !== `${nI},${cfg.dim}`) {
      throw new Error(`checkpoint does not match this run's shapes [${nU}|${nI}, ${cfg.dim}]`)
    }
    U = u.data.slice()
    V = v.data.slice()
    startEpoch = ctx.resume.epoch
  }
  const pairs: [number, number][] = []
  d.train.forEach((items, u) => items.forEach((i) => pairs.push([u, i])))
  const trainSets = d.train.map((items) => new Set(items))
  const stepsPerEpoch = Math.max(1, Math.ceil(pairs.length / 256))
  const totalSteps = cfg.epochs * stepsPerEpoch
  const started = Date.now()
  let done = 0
  for (let epoch = startEpoch; epoch < cfg.epochs; epoch++) {
    let lossSum = 0
    for (let step = 0; step < stepsPerEpoch; step++) {
      if (ctx.signal.aborted) throw new CancelledError()
      for (let s = 0; s < 256; s++) {
        const [u, i] = pairs[Math.floor(rand() * pairs.length)]
        let j = Math.floor(rand() * nI)
        for (let t = 0; t < 10 && trainSets[u].has(j); t++) j = Math.floor(rand() * nI)
        let x = 0
        for (let f = 0; f < cfg.dim; f++) x += U[u * cfg.dim + f] * (V[i * cfg.dim + f] - V[j * cfg.dim + f])
        const sig = 1 / (1 + Math.exp(x))
        lossSum += Math.log1p(Math.exp(-x))
        for (let f = 0; f < cfg.dim; f++) {
          const uf = U[u * cfg.dim + f]
          const vi = V[i * cfg.dim + f]
          const vj = V[j * cfg.dim + f]
          U[u * cfg.dim + f] += cfg.lr * (sig * (vi - vj) - cfg.reg * uf)
          V[i * cfg.dim + f] += cfg.lr * (sig * uf - cfg.reg * vi)
          V[j * cfg.dim + f] += cfg.lr * (-sig * uf - cfg.reg * vj)
        }
      }
      done++
      const globalStep = epoch * stepsPerEpoch + step + 1
      const elapsed = (Date.now() - started) / 1000
      const rate = done / Math.max(elapsed, 1e-3)
      ctx.progress({
        stage: 'collaborative',
        epoch,
        step: globalStep,
        totalSteps,
        fraction: globalStep / totalSteps,
        loss: lossSum / ((step + 1) * 256),
        tokensPerSec: rate * 256,
        etaSec: (totalSteps - globalStep) / rate,
      })
      if (cfg.stepDelayMs > 0) await sleep(cfg.stepDelayMs)
    }
    const loss = lossSum / (stepsPerEpoch * 256)
    ctx.metric({
      stage: 'collaborative',
      step: (epoch + 1) * stepsPerEpoch,
      epoch,
      name: 'loss',
      value: loss,
    })
    if ((epoch + 1) % cfg.checkpointEvery === 0 || epoch + 1 === cfg.epochs) {
      await ctx.checkpoint({
        stage: 'collaborative',
        epoch: epoch + 1,
        step: (epoch + 1) * stepsPerEpoch,
        format: BPR_FORMAT,
        meta: { dim: cfg.dim },
        tensors: [
          { name: 'user', shape: [nU, cfg.dim], data: U.slice() },
          { name: 'item', shape: [nI, cfg.dim], data: V.slice() },
        ],
      })
    }
  }
  const scorer = {
    scoreUsers(users: number[]): Float32Array {
      const out = new Float32Array(users.length * nI)
      users.forEach((u, r) => {
        for (let i = 0; i < nI; i++) {
          let s = 0
          for (let f = 0; f < cfg.dim; f++) s += U[u * cfg.dim + f] * V[i * cfg.dim + f]
          out[r * nI + i] = s
        }
      })
      return out
    },
  }
  const strip = (m: Metrics & { users?: number }): Metrics => ({
    recall20: m.recall20,
    recall40: m.recall40,
    ndcg100: m.ndcg100,
  })
  const val = strip(await evaluate(scorer, d, 'val', { signal: ctx.signal }))
  const test = strip(await evaluate(scorer, d, 'test', { signal: ctx.signal }))
  for (const [name, value] of Object.entries(test)) {
    ctx.metric({ stage: 'eval', step: totalSteps, epoch: cfg.epochs, name: `test.${name}`, value })
  }
  return { test, val, backend: 'js' }
}
