// The two LLMs of CLLM4Rec over one frozen GPT-2 backbone (CLLM4REC.md §1, §3, §4, §6): collaborative
// embeddings z^l and content embeddings z^c for the soft user/item tokens (tf.Variables, N(0, σ²)),
// input embeddings built from wte rows (hard tokens) and z rows (soft tokens) by masked gathers (the
// gather gradient is UnsortedSegmentSum, which engine/backend.ts provides on wasm), and the three heads:
// item head tied to z^l_item (collaborative + RecLLM), frozen vocabulary head (content, chunked).
import * as tf from '@tensorflow/tfjs'
import {
  multiHotCrossEntropySum,
  sparseCrossEntropySum,
  sparseSoftmaxCrossEntropy,
  sparseSoftmaxCrossEntropyGrad,
} from '../fused-ce'
import type { DropoutRates, Gpt2 } from '../gpt2/model'
import type { PackedBatch } from './documents'
import type { SoftVocab } from './vocab'

export type Side = 'collab' | 'content'

/** Rows of the vocabulary head computed at once (memory: rows x V floats). */
const HEAD_CHUNK_FLOATS = 8_000_000
/** Rows of the collaborative item head computed at once (memory: rows x J floats, 96 MiB). */
const ITEM_CHUNK_FLOATS = 24_000_000

export class Cllm4recModel {
  readonly zlUser: tf.Variable // [I, C]
  readonly zlItem: tf.Variable // [J, C]
  readonly zcUser: tf.Variable // [I, C]
  readonly zcItem: tf.Variable // [J, C]

  /** Vocabulary-head floats per chunk (rows = this / V); tests lower it to exercise chunking. */
  headChunkFloats = HEAD_CHUNK_FLOATS
  /**
   * Collaborative item-head floats per chunk (rows = this / J): a typical batch is one chunk; Beauty's
   * longest 640 documents (32k item positions) are several, under a GPU's 128 MiB binding limit each.
   */
  itemChunkFloats = ITEM_CHUNK_FLOATS
  /** Diagnostics hook called inside each head chunk while its [n, V] tensors exist (memory tests). */
  headProbe: ((phase: 'forward' | 'backward') => void) | undefined

  /** Backbone dropout rates used by training steps (null: none). */
  dropoutRates: DropoutRates | null = null
  /** Seed of the current training step's dropout masks; null outside training steps (evaluation). */
  private dropoutSeed: number | null = null

  private static counter = 0

  constructor(
    readonly backbone: Gpt2,
    readonly vocab: SoftVocab,
    initStd: number,
    seed: number,
  ) {
    const C = backbone.config.nEmbd
    if (vocab.base !== backbone.config.vocabSize) {
      throw new Error(`SoftVocab base ${vocab.base} != backbone vocab_size ${backbone.config.vocabSize}`)
    }
    const id = Cllm4recModel.counter++
    const init = (rows: number, k: number, name: string) =>
      tf.tidy(() =>
        tf.variable(tf.randomNormal([rows, C], 0, initStd, 'float32', seed * 16 + k), true, `${name}_${id}`),
      )
    this.zlUser = init(vocab.nUsers, 1, 'zl_user')
    this.zlItem = init(vocab.nItems, 2, 'zl_item')
    this.zcUser = init(vocab.nUsers, 3, 'zc_user')
    this.zcItem = init(vocab.nItems, 4, 'zc_item')
  }

  vars(side: Side): tf.Variable[] {
    return side === 'collab' ? [this.zlUser, this.zlItem] : [this.zcUser, this.zcItem]
  }

  /** All four tables by stable name (checkpoints, PCA, export). */
  tables(): Record<'zl_user' | 'zl_item' | 'zc_user' | 'zc_item', tf.Variable> {
    return { zl_user: this.zlUser, zl_item: this.zlItem, zc_user: this.zcUser, zc_item: this.zcItem }
  }

  /** Input embeddings [B, T, C] for extended-vocabulary ids; differentiable wrt the side's tables. */
  embed(inputs: Int32Array, B: number, T: number, side: Side): tf.Tensor3D {
    const { base, nUsers } = this.vocab
    const n = B * T
    const wordIdx = new Int32Array(n)
    const userIdx = new Int32Array(n)
    const itemIdx = new Int32Array(n)
    const mw = new Float32Array(n)
    const mu = new Float32Array(n)
    const mi = new Float32Array(n)
    let anyUser = false
    let anyItem = false
    for (let p = 0; p < n; p++) {
      const id = inputs[p]
      if (id < base) {
        wordIdx[p] = id
        mw[p] = 1
      } else if (id < base + nUsers) {
        userIdx[p] = id - base
        mu[p] = 1
        anyUser = true
      } else {
        itemIdx[p] = id - base - nUsers
        if (itemIdx[p] >= this.vocab.nItems)
          throw new Error(`embed: token id ${id} outside the extended vocabulary`)
        mi[p] = 1
        anyItem = true
      }
    }
    const [zu, zi] = side === 'collab' ? [this.zlUser, this.zlItem] : [this.zcUser, this.zcItem]
    return tf.tidy(() => {
      const C = this.backbone.config.nEmbd
      let e = tf.gather(this.backbone.wte, tf.tensor1d(wordIdx, 'int32')).mul(tf.tensor2d(mw, [n, 1]))
      if (anyUser) e = e.add(tf.gather(zu, tf.tensor1d(userIdx, 'int32')).mul(tf.tensor2d(mu, [n, 1])))
      if (anyItem) e = e.add(tf.gather(zi, tf.tensor1d(itemIdx, 'int32')).mul(tf.tensor2d(mi, [n, 1])))
      return e.reshape([B, T, C]) as tf.Tensor3D
    })
  }

  /** Enter a training step with seeded dropout masks (seed) or leave it (null: deterministic). */
  setTrainingStep(seed: number | null): void {
    this.dropoutSeed = seed
  }

  /** Hidden states [rows.length, C] at flat positions of a [B, T] input. */
  hiddenAt(inputs: Int32Array, B: number, T: number, side: Side, rows: Int32Array): tf.Tensor2D {
    return tf.tidy(() => {
      const x = this.embed(inputs, B, T, side)
      const dropout =
        this.dropoutSeed !== null && this.dropoutRates
          ? { rates: this.dropoutRates, seed: this.dropoutSeed }
          : undefined
      const { hidden } = this.backbone.forwardEmbeds(x, { dropout })
      const C = this.backbone.config.nEmbd
      return tf.gather(hidden.reshape([B * T, C]), tf.tensor1d(rows, 'int32')) as tf.Tensor2D
    })
  }

  /** Item logits [N, J] tied to an item table (h · zItemᵀ). */
  itemLogits(h: tf.Tensor2D, side: Side = 'collab'): tf.Tensor2D {
    return tf.matMul(h, side === 'collab' ? this.zlItem : this.zcItem, false, true)
  }

  /**
   * Collaborative LM loss: CE over the J items at main-text positions, summed and divided by `divisor`
   * (default: this batch's positions, the mean per token; a micro-batch passes its whole batch's count).
   */
  collabLoss(batch: PackedBatch, divisor = batch.positions.length): tf.Scalar {
    const M = batch.positions.length
    if (M === 0) throw new Error('collabLoss: batch has no target positions')
    const J = this.vocab.nItems
    const offset = this.vocab.base + this.vocab.nUsers
    const labels = new Int32Array(M)
    for (let m = 0; m < M; m++) {
      const j = batch.targets[m] - offset
      if (j < 0 || j >= J) throw new Error(`collabLoss: target ${batch.targets[m]} is not an item token`)
      labels[m] = j
    }
    const chunk = Math.max(1, Math.floor(this.itemChunkFloats / J))
    return tf.tidy(() => {
      const h = this.hiddenAt(batch.inputs, batch.B, batch.T, 'collab', batch.positions)
      // One chunk: the plain fused CE, which keeps its logits instead of recomputing them.
      if (M <= chunk) return sparseCrossEntropySum(this.itemLogits(h), labels).div(divisor) as tf.Scalar
      // Several: [M, J] never exists at once (780 MB for Beauty's longest 640 documents, twice).
      return this.chunkedLoss(h, labels, chunk, 'items', divisor)
    })
  }

  /**
   * Content LM loss: CE over the frozen vocabulary head at main-text positions, mean per token (or
   * divided by `divisor`, as collabLoss).
   *
   * Memory: at V = 50257 the [M, V] logits dwarf everything else, and under variableGrads a plain
   * chunked loop still keeps every chunk's logits on the tape until the backward pass. Each chunk is
   * therefore one custom-gradient op whose forward returns only the chunk's summed CE and whose backward
   * recomputes the logits: d CE / d h = (softmax(h·Wᵀ) − onehot(y))·W, times dy. Between forward and
   * backward only [n, C] tensors live; one chunk's [n, V] exists at a time. W (wte) is frozen, so no
   * gradient flows to it.
   */
  contentLoss(batch: PackedBatch, divisor = batch.positions.length): tf.Scalar {
    const M = batch.positions.length
    if (M === 0) throw new Error('contentLoss: batch has no target positions')
    const V = this.backbone.config.vocabSize
    for (let m = 0; m < M; m++) {
      if (batch.targets[m] >= V)
        throw new Error(`contentLoss: target ${batch.targets[m]} is not a word token`)
    }
    const chunk = Math.max(1, Math.floor(this.headChunkFloats / V))
    return tf.tidy(() => {
      const h = this.hiddenAt(batch.inputs, batch.B, batch.T, 'content', batch.positions)
      return this.chunkedLoss(h, batch.targets, chunk, 'vocab', divisor)
    })
  }

  /**
   * Σ_rows −log softmax(h·Wᵀ)[y] for one chunk of a head, W the frozen wte ('vocab') or the trained
   * z^l_item ('items'), with the gradient recomputed in backward (see contentLoss). Only h is saved:
   * saving the item table would copy [J, C] a chunk, and it is unchanged until the update. For 'items'
   * the backward also returns d/dW = gᵀ·h.
   */
  private chunkCrossEntropy(h: tf.Tensor2D, targets: Int32Array, head: 'vocab' | 'items'): tf.Scalar {
    const probe = this.headProbe
    const logitsOf = (x: tf.Tensor2D) =>
      head === 'vocab' ? this.backbone.logits(x) : (tf.matMul(x, this.zlItem, false, true) as tf.Tensor2D)
    const ce = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const hc = args[0] as tf.Tensor2D
      const save = args[args.length - 1] as tf.GradSaveFunc
      save([hc])
      // The forward runs inside the op, untaped; its [n, V] logits die with the op's own tidy.
      const value = sparseSoftmaxCrossEntropy(logitsOf(hc), targets).sum() as tf.Scalar
      probe?.('forward')
      return {
        value,
        // tfjs calls gradFunc outside any per-node tidy, so the [n, V] recomputation is tidied here;
        // the logits are freed as soon as their gradient exists: at most two [n, V] tensors at once.
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          tf.tidy(() => {
            const hs = saved[0] as tf.Tensor2D
            const z = logitsOf(hs)
            const g = sparseSoftmaxCrossEntropyGrad(z, targets, dy)
            z.dispose()
            probe?.('backward')
            if (head === 'vocab') return tf.matMul(g, this.backbone.wte)
            return [tf.matMul(g, this.zlItem), tf.matMul(g, hs, true, false)]
          }),
      }
    })
    return (head === 'vocab' ? ce(h) : ce(h, this.zlItem)) as tf.Scalar
  }

  /** Σ over row chunks of chunkCrossEntropy, divided by `divisor`. */
  private chunkedLoss(
    h: tf.Tensor2D,
    targets: Int32Array,
    chunk: number,
    head: 'vocab' | 'items',
    divisor: number,
  ) {
    const M = targets.length
    let total: tf.Tensor = tf.scalar(0)
    for (let s = 0; s < M; s += chunk) {
      const n = Math.min(chunk, M - s)
      const hc = h.slice([s, 0], [n, -1]) as tf.Tensor2D
      total = total.add(this.chunkCrossEntropy(hc, targets.subarray(s, s + n), head))
    }
    return total.div(divisor) as tf.Scalar
  }

  /**
   * RecLLM loss: last prompt hidden state -> item logits tied to z^l_item; multinomial log-likelihood
   * −Σ_j y_j log softmax_j summed over each user's targets, mean over users (or divided by `divisor`):
   * one [B, J] row a user, whatever the number of targets.
   */
  recLoss(
    prompts: { inputs: Int32Array; B: number; T: number; last: Int32Array },
    targets: number[][],
    divisor = prompts.B,
  ): tf.Scalar {
    const J = this.vocab.nItems
    for (const ts of targets) {
      for (const j of ts)
        if (!(j >= 0 && j < J)) throw new Error(`recLoss: target item ${j} is outside [0, ${J})`)
    }
    if (targets.every((ts) => ts.length === 0)) throw new Error('recLoss: no targets')
    return tf.tidy(() => {
      const h = this.hiddenAt(prompts.inputs, prompts.B, prompts.T, 'collab', prompts.last)
      return multiHotCrossEntropySum(this.itemLogits(h), targets).div(divisor) as tf.Scalar
    })
  }

  /**
   * Mutual regularisation for the side being updated (the other side is a constant: only this side's
   * Variables are differentiated). Scaling, 'per-doc' (paper preset): (λc/2)·Σ_r ||z^l_r − z^c_r||² / D
   * over the batch's unique rows r and D documents, plus (λl/2)·Σ_r ||z^l_r||² / D on the L-step: a
   * per-document MAP term, so its weight relative to the per-token LM loss does not grow with batch size.
   * 'official-sum': λc·Σ over every soft-token occurrence of the squared error, no ½ and not
   * normalised (what the authors' code does; its strength grows with batch size and document length).
   * `weights` (per-doc only) scale each row's terms: 'per-epoch' passes 1/k for a row in k of the
   * epoch's batches.
   */
  mutualLoss(
    side: Side,
    users: number[],
    items: number[],
    nDocs: number,
    lambdaC: number,
    lambdaL: number,
    perDoc: boolean,
    weights?: { users: Float32Array; items: Float32Array },
  ): tf.Scalar {
    return tf.tidy(() => {
      let total: tf.Tensor = tf.scalar(0)
      const pairs: [number[], tf.Variable, tf.Variable, Float32Array | undefined][] = [
        [users, this.zlUser, this.zcUser, weights?.users],
        [items, this.zlItem, this.zcItem, weights?.items],
      ]
      for (const [rows, zl, zc, w] of pairs) {
        if (rows.length === 0) continue
        const idx = tf.tensor1d(rows, 'int32')
        // w·‖x‖² as ‖√w·x‖²: one scaling of each gathered row serves both terms.
        const scale = w ? tf.tensor2d(w, [w.length, 1]).sqrt() : null
        const l = scale ? tf.gather(zl, idx).mul(scale) : tf.gather(zl, idx)
        const c = scale ? tf.gather(zc, idx).mul(scale) : tf.gather(zc, idx)
        total = total.add(
          l
            .sub(c)
            .square()
            .sum()
            .mul(perDoc ? lambdaC / 2 : lambdaC),
        )
        if (side === 'collab' && lambdaL > 0)
          total = total.add(
            l
              .square()
              .sum()
              .mul(lambdaL / 2),
          )
      }
      return (perDoc ? total.div(Math.max(1, nDocs)) : total) as tf.Scalar
    })
  }

  dispose(): void {
    tf.dispose([this.zlUser, this.zlItem, this.zcUser, this.zcItem])
  }
}
