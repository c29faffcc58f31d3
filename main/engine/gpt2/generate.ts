// Greedy decoding with a KV cache: the prompt is run once, then one token per step reuses past keys
// and values. Used by the CLI and for inspecting the content LLM (CLLM4REC.md §4).
import * as tf from '@tensorflow/tfjs'
import { disposeCache, type Gpt2, type KvCache } from './model'

export interface GenerateOptions {
  maxNewTokens: number
  /** Stop after emitting this id (e.g. <|endoftext|>). */
  stopId?: number
  signal?: AbortSignal
}

/** Argmax over the vocabulary of the last position's logits of hidden [1, T, C] (awaited readback). */
async function nextToken(model: Gpt2, hidden: tf.Tensor3D): Promise<number> {
  const t = tf.tidy(() => {
    const [, T, C] = hidden.shape
    const last = hidden.slice([0, T - 1, 0], [1, 1, C]).reshape([1, C]) as tf.Tensor2D
    return model.logits(last).argMax(-1)
  })
  try {
    return (await t.data())[0]
  } finally {
    t.dispose()
  }
}

/** Greedy continuation of `ids`; returns only the new ids. Stops at the context limit. */
export async function generateGreedy(model: Gpt2, ids: number[], opts: GenerateOptions): Promise<number[]> {
  if (ids.length === 0) throw new Error('generate: the prompt must contain at least one token')
  const V = model.config.vocabSize
  const bad = ids.find((id) => !Number.isInteger(id) || id < 0 || id >= V)
  if (bad !== undefined) throw new Error(`generate: token id ${bad} is outside the vocabulary (0..${V - 1})`)
  if (ids.length > model.config.nPositions) {
    throw new Error(
      `generate: prompt of ${ids.length} tokens exceeds the context of ${model.config.nPositions}`,
    )
  }
  const out: number[] = []
  let cache: KvCache | undefined
  let input = ids
  try {
    while (out.length < opts.maxNewTokens && (cache?.length ?? 0) + input.length <= model.config.nPositions) {
      if (opts.signal?.aborted) throw new Error('generate: aborted')
      const idT = tf.tensor2d([input], [1, input.length], 'int32')
      const x = model.embedTokens(idT)
      const r = model.forwardEmbeds(x, { past: cache, returnCache: true })
      tf.dispose([idT, x])
      disposeCache(cache)
      cache = r.cache
      let next: number
      try {
        next = await nextToken(model, r.hidden)
      } finally {
        r.hidden.dispose()
      }
      out.push(next)
      if (next === opts.stopId) break
      input = [next]
    }
  } finally {
    disposeCache(cache)
  }
  return out
}
