// Mult-VAE (Liang et al., WWW 2018) on the same split and evaluator as CLLM4Rec: encoder J-600-200
// (tanh, input L2-normalised, dropout 0.5), decoder 200-600-J, multinomial likelihood, KL annealed
// linearly to β = 0.2; the epoch with the best validation score is kept. The input is read as its
// nonzeros (the same dropout draws as a dense input), which spares the encoder's J-wide matMuls.
import * as tf from '@tensorflow/tfjs'
import type { RecDataset } from '../../data/types'
import { checkGpu } from '../backend'
import { adam } from '../fused-adam'
import { evaluate, type Scorer } from '../eval/evaluate'
import { selectionScore, type RankingMetrics } from '../eval/metrics'
import { Rng } from '../train/rng'
import { MULT_VAE_EPOCHS } from './mult-vae-epochs'

export interface MultVaeOptions {
  epochs?: number
  batchSize?: number
  hidden?: number
  latent?: number
  dropout?: number
  betaMax?: number
  /** Updates over which β rises from 0 to betaMax. */
  annealSteps?: number
  lr?: number
  seed?: number
  signal?: AbortSignal
  onEpoch?: (epoch: number, loss: number, val: RankingMetrics) => void
}

export interface SparseInput {
  users: number
  /** Per nonzero: its row in the batch, its item, row·J + item, and its (dropped-out) value. */
  rows: tf.Tensor1D
  items: tf.Tensor1D
  flat: tf.Tensor1D
  values: tf.Tensor1D
}

/**
 * The users' training items as the nonzeros of the L2-normalised multi-hot input, dropped out with
 * `dropout`: the encoder's first layer is then a sum of w1's rows (a user has a few items of thousands),
 * never a dense J-wide matMul.
 */
export function sparseInput(data: RecDataset, users: number[], dropout = 0, dropSeed = 0): SparseInput {
  const J = data.itemIds.length
  const nnz = users.reduce((n, u) => n + data.train[u].length, 0)
  const rows = new Int32Array(nnz)
  const items = new Int32Array(nnz)
  const flat = new Int32Array(nnz)
  const values = new Float32Array(nnz)
  let k = 0
  users.forEach((u, r) => {
    const train = data.train[u]
    for (const j of train) {
      rows[k] = r
      items[k] = j
      flat[k] = r * J + j
      values[k++] = 1 / Math.sqrt(train.length)
    }
  })
  const flatIds = tf.tensor1d(flat, 'int32')
  // tf.dropout's draws over the dense [users, J] input, read at the nonzeros: the same kept items. Its
  // intermediates (a dense draw) are freed here, whether or not the caller runs inside a tidy.
  const keep = 1 - dropout
  const v: tf.Tensor1D =
    dropout > 0
      ? tf.tidy(() => {
          const u = tf.randomUniform([users.length, J], 0, 1, 'float32', dropSeed).reshape([-1])
          return tf.tensor1d(values).mul(tf.floor(tf.gather(u, flatIds).add(keep)).div(keep))
        })
      : tf.tensor1d(values)
  return {
    users: users.length,
    rows: tf.tensor1d(rows, 'int32'),
    items: tf.tensor1d(items, 'int32'),
    flat: flatIds,
    values: v,
  }
}

/**
 * x·w for the sparse input x, with its gradient for w written out: tfjs's own gradient of the segment
 * sum masks a bool tensor the size of the gathered rows, slower on wasm than the dense matMul it saves.
 */
export function sparseMatMul(x: SparseInput, w: tf.Tensor2D): tf.Tensor2D {
  const rows = w.shape[0]
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [weights, save] = args as [tf.Tensor, tf.GradSaveFunc]
    const v = x.values.expandDims(1)
    // Saved, not closed over: the caller's tidy frees its tensors before the backward pass runs.
    save([x.items, x.rows, v])
    return {
      value: tf.unsortedSegmentSum(tf.gather(weights, x.items).mul(v), x.rows as tf.Tensor1D, x.users),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [items, rowIds, values] = saved
        return tf.unsortedSegmentSum(tf.gather(dy, rowIds).mul(values), items as tf.Tensor1D, rows)
      },
    }
  })
  return f(w) as tf.Tensor2D
}

type Params = Record<'w1' | 'b1' | 'wMu' | 'bMu' | 'wLv' | 'bLv' | 'w2' | 'b2' | 'w3' | 'b3', tf.Variable>

export class MultVae implements Scorer {
  private constructor(
    private readonly data: RecDataset,
    private readonly p: Params,
  ) {}

  private static init(J: number, H: number, Z: number, seed: number): Params {
    // Glorot-uniform weights, small normal biases, as in the reference implementation.
    const glorot = (i: number, o: number, k: number) =>
      tf.variable(
        tf.randomUniform([i, o], -Math.sqrt(6 / (i + o)), Math.sqrt(6 / (i + o)), 'float32', seed * 31 + k),
      )
    const bias = (o: number, k: number) =>
      tf.variable(tf.randomNormal([o], 0, 0.001, 'float32', seed * 31 + k))
    return tf.tidy(() => ({
      w1: glorot(J, H, 1),
      b1: bias(H, 2),
      wMu: glorot(H, Z, 3),
      bMu: bias(Z, 4),
      wLv: glorot(H, Z, 5),
      bLv: bias(Z, 6),
      w2: glorot(Z, H, 7),
      b2: bias(H, 8),
      w3: glorot(H, J, 9),
      b3: bias(J, 10),
    }))
  }

  private encode(x: SparseInput): { mu: tf.Tensor2D; logvar: tf.Tensor2D } {
    const h = tf.tanh(sparseMatMul(x, this.p.w1 as tf.Tensor2D).add(this.p.b1)) as tf.Tensor2D
    return {
      mu: tf.matMul(h, this.p.wMu).add(this.p.bMu) as tf.Tensor2D,
      logvar: tf.matMul(h, this.p.wLv).add(this.p.bLv) as tf.Tensor2D,
    }
  }

  private decode(z: tf.Tensor2D): tf.Tensor2D {
    const h = tf.tanh(tf.matMul(z, this.p.w2).add(this.p.b2)) as tf.Tensor2D
    return tf.matMul(h, this.p.w3).add(this.p.b3) as tf.Tensor2D
  }

  async scoreUsers(users: number[]): Promise<Float32Array> {
    const scores = tf.tidy(() => this.decode(this.encode(sparseInput(this.data, users)).mu))
    try {
      return (await scores.data()) as Float32Array
    } finally {
      scores.dispose()
      checkGpu()
    }
  }

  private async snapshot(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>()
    for (const [k, v] of Object.entries(this.p))
      out.set(k, Float32Array.from((await v.data()) as Float32Array))
    return out
  }

  private restore(s: Map<string, Float32Array>): void {
    tf.tidy(() => {
      for (const [k, v] of Object.entries(this.p)) v.assign(tf.tensor(s.get(k) as Float32Array, v.shape))
    })
  }

  dispose(): void {
    tf.dispose(Object.values(this.p))
  }

  static async fit(
    data: RecDataset,
    o: MultVaeOptions = {},
  ): Promise<{ model: MultVae; val: RankingMetrics; bestEpoch: number }> {
    const J = data.itemIds.length
    const epochs = o.epochs ?? MULT_VAE_EPOCHS
    const bs = o.batchSize ?? 500
    const dropout = o.dropout ?? 0.5
    const betaMax = o.betaMax ?? 0.2
    const rng = new Rng(o.seed ?? 1)
    const users = data.train.map((_, u) => u).filter((u) => data.train[u].length > 0)
    const stepsPerEpoch = Math.ceil(users.length / bs)
    const anneal = o.annealSteps ?? Math.max(1, Math.round(0.8 * epochs * stepsPerEpoch))
    const model = new MultVae(data, MultVae.init(J, o.hidden ?? 600, o.latent ?? 200, o.seed ?? 1))
    const opt = adam(o.lr ?? 1e-3, 0.9, 0.999, tf.backend().epsilon())
    let step = 0
    let best: {
      score: number
      val: RankingMetrics
      epoch: number
      params: Map<string, Float32Array>
    } | null = null
    try {
      for (let e = 0; e < epochs; e++) {
        rng.shuffle(users)
        let lossSum = 0
        for (let s = 0; s < users.length; s += bs) {
          o.signal?.throwIfAborted()
          const batch = users.slice(s, s + bs)
          const beta = Math.min(betaMax, (betaMax * step) / anneal)
          const dropSeed = rng.int(2 ** 31)
          const epsSeed = rng.int(2 ** 31)
          const cost = opt.minimize(
            () =>
              tf.tidy(() => {
                const x = sparseInput(data, batch, dropout, dropSeed)
                const { mu, logvar } = model.encode(x)
                const eps = tf.randomNormal(mu.shape, 0, 1, 'float32', epsSeed)
                const z = mu.add(eps.mul(logvar.mul(0.5).exp())) as tf.Tensor2D
                const logp = tf.logSoftmax(model.decode(z))
                // Σ over each user's items of log p, averaged over users.
                const nll = tf
                  .gather(logp.reshape([-1]), x.flat)
                  .sum()
                  .div(batch.length)
                  .neg()
                const kl = logvar.add(1).sub(mu.square()).sub(logvar.exp()).sum(1).mean().mul(-0.5)
                return nll.add(kl.mul(beta)) as tf.Scalar
              }),
            true,
            Object.values(model.p),
          )
          lossSum += cost ? (await cost.data())[0] : NaN
          checkGpu()
          cost?.dispose()
          step++
        }
        const val = await evaluate(model, data, 'val', { signal: o.signal })
        o.onEpoch?.(e, lossSum / stepsPerEpoch, val)
        const score = selectionScore(val)
        if (!best || score > best.score) best = { score, val, epoch: e, params: await model.snapshot() }
      }
    } finally {
      opt.dispose()
    }
    if (!best) throw new Error('MultVae.fit: epochs must be >= 1')
    model.restore(best.params)
    return { model, val: best.val, bestEpoch: best.epoch }
  }
}
