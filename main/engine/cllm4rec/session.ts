// A trained CLLM4Rec model ready to use (CLLM4REC.md §6 prediction, plus the inspection calls the
// workbench makes): RecLLM scoring with the full training history as prompt (one forward pass, softmax
// over all items, no generation), content-side scoring, nearest items, embedding tables for PCA, and
// greedy review generation from the content LLM. Every readback is awaited (GPU backends have no
// synchronous one).
import * as tf from '@tensorflow/tfjs'
import type { RecDataset } from '../../data/types'
import { bindingLimitBytes, checkGpu, releaseGpuPool, shapeBucket } from '../backend'
import { disposeCache, type KvCache } from '../gpt2/model'
import { tokenPicker, type Sampling } from '../gpt2/sampling'
import type { Scorer } from '../eval/evaluate'
import { topKRow } from '../eval/topk'
import { Rng } from '../train/rng'
import type { Cllm4recConfig } from './config'
import { packPrompts, recommendationPrompt } from './documents'
import { fillTemplate } from './prompts'
import type { Cllm4recModel, Side } from './model'
import type { ExtendedTokenizer } from './vocab'

export type TableName = 'zl_user' | 'zl_item' | 'zc_user' | 'zc_item'

export class Cllm4recSession implements Scorer {
  constructor(
    readonly model: Cllm4recModel,
    readonly tok: ExtendedTokenizer,
    readonly config: Readonly<Cllm4recConfig>,
    readonly data: RecDataset,
    /** Backbone folder, stored with the run. */
    readonly backboneDir: string,
  ) {}

  get maxLength(): number {
    return Math.min(this.config.maxLength, this.model.backbone.config.nPositions)
  }

  /**
   * The full training history in the order the prediction prompt lists it: shuffled like every
   * training prompt, with a fixed seed per (run seed, user, order) so scores never depend on the batch.
   * Order 0 is the single order a run with evalPromptOrders 1 uses.
   */
  promptHistory(user: number, order = 0): number[] {
    const seed =
      (Math.imul(this.config.seed + 1, 0x9e3779b1) ^
        Math.imul(user + 1, 0x85ebca6b) ^
        Math.imul(order, 0x27d4eb2f)) >>>
      0
    return new Rng(seed).shuffle([...this.data.train[user]])
  }

  /**
   * Item scores [users.length, J] (log-softmax) from the recommendation prompt through one side, averaged
   * over evalPromptOrders seeded orders of the history (the prompt is a set; the backbone reads a
   * sequence). The batch shrinks so its [B, J] scores stay under the GPU's binding limit (above it
   * results are wrong).
   */
  async scoreUsersWith(users: number[], side: Side, maxBatch = 64): Promise<Float32Array> {
    const J = this.data.itemIds.length
    const fit = Math.floor(bindingLimitBytes() / (J * 4))
    if (fit < 1)
      throw new Error(`scoring: ${J} items exceed the GPU's binding limit of ${bindingLimitBytes()} bytes`)
    const batchSize = Math.min(maxBatch, fit)
    // Runs stored before the option existed hold no value: they scored one order.
    const orders = this.config.evalPromptOrders ?? 1
    const out = new Float32Array(users.length * J)
    // Rows sorted by history length so each right-padded batch wastes little (results keep input order).
    const byLength = users
      .map((_, r) => r)
      .sort((a, b) => this.data.train[users[a]].length - this.data.train[users[b]].length)
    for (let s = 0; s < byLength.length; s += batchSize) {
      const rows = byLength.slice(s, s + batchSize)
      for (let k = 0; k < orders; k++) {
        const v = await this.scorePrompts(
          rows.map((r) => users[r]),
          k,
          side,
        )
        rows.forEach((r, b) => {
          for (let j = 0; j < J; j++) out[r * J + j] += v[b * J + j] / orders
        })
      }
    }
    return out
  }

  /** Log-softmax item scores [users.length, J] of one batch of prediction prompts in history order k. */
  private async scorePrompts(users: number[], order: number, side: Side): Promise<Float32Array> {
    const prompts = users.map(
      (u) =>
        recommendationPrompt(this.tok, this.config.prompts, u, this.promptHistory(u, order), this.maxLength)
          .ids,
    )
    const p = packPrompts(prompts, { bucket: shapeBucket(), maxT: this.maxLength })
    const scores = tf.tidy(() => {
      const h = this.model.hiddenAt(p.inputs, p.B, p.T, side, p.last)
      return tf.logSoftmax(this.model.itemLogits(h, side))
    })
    let v: Float32Array
    try {
      v = (await scores.data()) as Float32Array
    } finally {
      scores.dispose()
    }
    checkGpu()
    return v
  }

  /** RecLLM scores (collaborative side): what the evaluator ranks. */
  scoreUsers(users: number[]): Promise<Float32Array> {
    return this.scoreUsersWith(users, 'collab')
  }

  /** Top-K items for a user, training items excluded. */
  async recommend(
    user: number,
    k: number,
    side: Side = 'collab',
  ): Promise<{ item: number; score: number }[]> {
    if (!Number.isInteger(user) || user < 0 || user >= this.data.train.length)
      throw new Error(`recommend: user ${user} out of range`)
    const scores = await this.scoreUsersWith([user], side)
    const top = topKRow(scores, 0, scores.length, k, new Set(this.data.train[user]))
    return Array.from(top, (item) => ({ item, score: scores[item] }))
  }

  /** Copy of an embedding table as row-major Float32Array [rows, C]. */
  async embeddings(name: TableName): Promise<{ data: Float32Array; rows: number; dim: number }> {
    const v = this.model.tables()[name]
    const data = Float32Array.from((await v.data()) as Float32Array)
    return { data, rows: v.shape[0] as number, dim: v.shape[1] as number }
  }

  /** Items most similar to `item` by cosine similarity of one item table. */
  async nearestItems(
    item: number,
    k: number,
    table: 'zl_item' | 'zc_item' = 'zl_item',
  ): Promise<{ item: number; similarity: number }[]> {
    const { data, rows, dim } = await this.embeddings(table)
    if (!Number.isInteger(item) || item < 0 || item >= rows)
      throw new Error(`nearestItems: item ${item} out of range`)
    const norm = (r: number) => Math.hypot(...data.subarray(r * dim, (r + 1) * dim)) || 1
    const q = data.subarray(item * dim, (item + 1) * dim)
    const qn = norm(item)
    const sims = new Float32Array(rows)
    for (let r = 0; r < rows; r++) {
      let d = 0
      for (let c = 0; c < dim; c++) d += q[c] * data[r * dim + c]
      sims[r] = d / (qn * norm(r))
    }
    const top = topKRow(sims, 0, rows, k, new Set([item]))
    return Array.from(top, (j) => ({ item: j, similarity: sims[j] }))
  }

  /**
   * Review text from the content LLM for (user, item), KV-cached, stops at end-of-text: greedy, or
   * sampled (temperature, top-k, seed) when `sampling` is given.
   */
  async generateReview(
    user: number,
    item: number,
    maxNewTokens = 30,
    signal?: AbortSignal,
    sampling?: Sampling,
  ): Promise<{ prompt: string; text: string; ids: number[] }> {
    const pick = tokenPicker(sampling)
    const promptIds = this.tok.encode(fillTemplate(this.config.prompts.review, { user, item }))
    const stop = (this.tok.text as { eosId?: number }).eosId
    const out: number[] = []
    let cache: KvCache | undefined
    try {
      let x = this.model.embed(Int32Array.from(promptIds), 1, promptIds.length, 'content')
      while (
        out.length < maxNewTokens &&
        (cache?.length ?? 0) + x.shape[1] <= this.model.backbone.config.nPositions
      ) {
        signal?.throwIfAborted()
        const r = this.model.backbone.forwardEmbeds(x, { past: cache, returnCache: true })
        x.dispose()
        disposeCache(cache)
        cache = r.cache
        const nextT = tf.tidy(() => {
          const T = r.hidden.shape[1]
          const last = r.hidden.slice([0, T - 1, 0], [1, 1, -1]).reshape([1, -1]) as tf.Tensor2D
          return this.model.backbone.logits(last)
        })
        r.hidden.dispose()
        const next = pick((await nextT.data()) as Float32Array)
        nextT.dispose()
        checkGpu()
        if (next === stop) break
        out.push(next)
        x = tf.tidy(() => this.model.backbone.embedTokens(tf.tensor2d([[next]], [1, 1], 'int32')))
      }
      x.dispose()
    } finally {
      disposeCache(cache)
      // Each step had a longer cache (its own buffer sizes): the pool is freed (webgpu only).
      releaseGpuPool()
    }
    return { prompt: this.tok.decode(promptIds), text: this.tok.text.decode(out), ids: out }
  }

  dispose(): void {
    this.model.dispose()
    this.model.backbone.dispose()
  }
}
