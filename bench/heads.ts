// The two item heads at Beauty's real shapes (6,086 items, width 64, each user's training items as the
// targets), forward + backward, ms per step and the step's peak tensor bytes beyond its inputs:
// - RecLLM: one single-label CE row per target (the formula before multiHotCrossEntropySum) against one
//   multinomial row per user, on the same hidden states and item table;
// - collaborative LM: the full [M, J] logits in one piece against the chunked head (Cllm4recModel's
//   collabLoss with a random 2x64 backbone), for the batch of the longest documents at 320 and 640.
//   npm run bench -- heads [--data ../shared/data/amazon-cllm4rec/beauty] [--iters 5] [--backend native]
import * as tf from '@tensorflow/tfjs'
import { parseArgs } from '../main/cli/args'
import type { PackedBatch } from '../main/engine/cllm4rec/documents'
import { Cllm4recModel } from '../main/engine/cllm4rec/model'
import { SoftVocab } from '../main/engine/cllm4rec/vocab'
import { multiHotCrossEntropySum, sparseCrossEntropySum } from '../main/engine/fused-ce'
import { Gpt2 } from '../main/engine/gpt2/model'
import { Rng } from '../main/engine/train/rng'
import { SPLIT_FLAGS, openSplit } from './split'

type Measure = { ms: number; peakMiB: number; loss: number }

/** Mean ms of forward + backward over `iters` steps after one warm-up, and one step's peak extra bytes. */
async function measure(loss: () => tf.Scalar, vars: tf.Variable[], iters: number): Promise<Measure> {
  const once = () => {
    const { value, grads } = tf.variableGrads(loss, vars)
    const v = value.dataSync()[0]
    tf.dispose([value, ...Object.values(grads)])
    return v
  }
  const before = tf.memory().numBytes
  const p = await tf.profile(once)
  const t0 = performance.now()
  let v = 0
  for (let i = 0; i < iters; i++) v = once()
  return { ms: (performance.now() - t0) / iters, peakMiB: (p.peakBytes - before) / 2 ** 20, loss: v }
}

/** Every training item of `users` as targets (the RecLLM's all-items target). */
function targetsOf(train: number[][], users: number[]): number[][] {
  return users.map((u) => [...train[u]])
}

async function recHead(train: number[][], J: number, B: number, iters: number) {
  const rng = new Rng(1)
  const users = rng.shuffle(train.map((_, u) => u).filter((u) => train[u].length > 0)).slice(0, B)
  const targets = targetsOf(train, users)
  const rows = Int32Array.from(targets.flatMap((ts, b) => ts.map(() => b)))
  const labels = Int32Array.from(targets.flat())
  const h = tf.variable(tf.randomNormal([B, 64], 0, 1, 'float32', 1))
  const z = tf.variable(tf.randomNormal([J, 64], 0, 0.1, 'float32', 2))
  const perTarget = () =>
    tf.tidy(
      () =>
        sparseCrossEntropySum(
          tf.matMul(tf.gather(h, tf.tensor1d(rows, 'int32')), z, false, true),
          labels,
        ).div(B) as tf.Scalar,
    )
  const perUser = () =>
    tf.tidy(() => multiHotCrossEntropySum(tf.matMul(h, z, false, true), targets).div(B) as tf.Scalar)
  const a = await measure(perTarget, [h, z], iters)
  const b = await measure(perUser, [h, z], iters)
  tf.dispose([h, z])
  return { B, targets: labels.length, a, b }
}

/** The batch of the `B` users with the longest histories: the one that sets a step's peak. */
async function collabHead(train: number[][], J: number, B: number, iters: number, plain: boolean) {
  const users = train
    .map((items, u) => ({ u, n: items.length }))
    .sort((x, y) => y.n - x.n)
    .slice(0, B)
  const T = users[0].n + 1
  const V = 2000
  const backbone = Gpt2.random(
    { vocabSize: V, nPositions: 256, nEmbd: 64, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 },
    1,
  )
  const vocab = new SoftVocab(V, train.length, J)
  const model = new Cllm4recModel(backbone, vocab, 0.02, 1)
  if (plain) model.itemChunkFloats = Number.MAX_SAFE_INTEGER
  const inputs = new Int32Array(B * T)
  const positions: number[] = []
  const targets: number[] = []
  const itemBase = V + train.length
  users.forEach(({ u }, b) => {
    inputs[b * T] = V + u
    train[u].forEach((j, t) => {
      inputs[b * T + 1 + t] = itemBase + j
      positions.push(b * T + t)
      targets.push(itemBase + j)
    })
  })
  const batch: PackedBatch = {
    inputs,
    B,
    T,
    positions: Int32Array.from(positions),
    targets: Int32Array.from(targets),
  }
  try {
    return {
      M: positions.length,
      T,
      m: await measure(() => model.collabLoss(batch), model.vars('collab'), iters),
    }
  } finally {
    model.dispose()
    backbone.dispose()
  }
}

export async function run(argv: string[]): Promise<void> {
  const f = parseArgs('bench heads', argv, {
    ...SPLIT_FLAGS,
    iters: { type: 'int', help: 'timed steps per measurement (default 5)' },
  })
  const { info, data } = await openSplit(f)
  const J = data.itemIds.length
  const iters = f.iters ?? 5
  const fmt = (m: Measure) => `${m.ms.toFixed(1)} ms, peak ${m.peakMiB.toFixed(0)} MiB`
  const out: string[] = [`${data.name}: ${data.userIds.length} users, ${J} items; backend ${info.name}`]
  out.push('RecLLM head, forward + backward (all-items target):')
  for (const B of [320, 640]) {
    const r = await recHead(data.train, J, B, iters)
    out.push(
      `  batch ${B} (${r.targets} targets): a row a target ${fmt(r.a)}; a row a user ${fmt(r.b)}; ` +
        `${(r.a.ms / r.b.ms).toFixed(2)}x faster, loss ${r.a.loss.toFixed(4)} / ${r.b.loss.toFixed(4)}`,
    )
  }
  out.push('Collaborative LM head + 2x64 backbone, forward + backward, the longest documents:')
  for (const B of [320, 640]) {
    const p = await collabHead(data.train, J, B, iters, true)
    const c = await collabHead(data.train, J, B, iters, false)
    out.push(
      `  batch ${B} (M ${p.M} positions, T ${p.T}): full [M, J] ${fmt(p.m)}; chunked ${fmt(c.m)}; ` +
        `loss ${p.m.loss.toFixed(4)} / ${c.m.loss.toFixed(4)}`,
    )
  }
  process.stdout.write(out.join('\n') + '\n')
}
