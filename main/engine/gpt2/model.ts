// GPT-2 forward pass in TensorFlow.js, HF-compatible names and Conv1D layout ([in, out], x @ W + b).
// CLLM4REC.md §1: the backbone is frozen and shared by both LLMs; callers feed token embeddings
// (word + soft user/item tokens) through forwardEmbeds and differentiate with respect to them.
// Read bottom-up: helpers (layerNorm, gelu, attention), then the Gpt2 class, then loadGpt2.
import * as tf from '@tensorflow/tfjs'
import { nativeGelu, nativeLayerNorm } from '../fused-layers'
import fs from 'node:fs'
import path from 'node:path'
import { readHfConfig, validateConfig, type DropoutRates, type Gpt2Config } from './config'
import { readSafetensors, type RawTensor } from './safetensors'
import { Gpt2Tokenizer } from './tokenizer'
import { checkWeights, expectedShapes } from './weights'

export type { DropoutRates, Gpt2Config } from './config'

export interface KvCache {
  layers: { k: tf.Tensor4D; v: tf.Tensor4D }[] // k, v: [B, H, T, C/H]
  length: number
}

export function disposeCache(cache: KvCache | undefined): void {
  if (cache) for (const l of cache.layers) tf.dispose([l.k, l.v])
}

function layerNorm(x: tf.Tensor3D, g: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor3D {
  const fused = nativeLayerNorm(x, g, b, eps)
  if (fused) return fused as tf.Tensor3D
  const mean = x.mean(-1, true)
  const centred = x.sub(mean)
  const variance = centred.square().mean(-1, true)
  return centred.mul(variance.add(eps).rsqrt()).mul(g).add(b) as tf.Tensor3D
}

const GELU_K = Math.sqrt(2 / Math.PI)
function gelu(x: tf.Tensor, exact: boolean): tf.Tensor {
  if (exact) return x.mul(tf.erf(x.mul(Math.SQRT1_2)).add(1)).mul(0.5)
  const fused = nativeGelu(x)
  if (fused) return fused
  // gelu_new: 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3)))
  return x.mul(tf.tanh(x.add(x.mul(x).mul(x).mul(0.044715)).mul(GELU_K)).add(1)).mul(0.5)
}

/** x [B,T,C] @ W [C,O] + b as one 2-D plain matMul (the fast path on wasm). */
function dense(x: tf.Tensor3D, w: tf.Tensor, b: tf.Tensor): tf.Tensor3D {
  const [B, T, C] = x.shape
  return tf
    .matMul(x.reshape([B * T, C]), w as tf.Tensor2D)
    .add(b)
    .reshape([B, T, w.shape[1] as number])
}

/** Additive causal mask [T, S] for queries at positions past..past+T-1 over keys 0..S-1. */
function causalMask(T: number, S: number, past: number): tf.Tensor2D {
  const m = new Float32Array(T * S)
  for (let i = 0; i < T; i++) for (let j = past + i + 1; j < S; j++) m[i * S + j] = -1e9
  return tf.tensor2d(m, [T, S])
}

/** Training-time dropout: the rates and a seed, so a resumed run draws the same masks. */
export interface SeededDropout {
  rates: DropoutRates
  seed: number
}

type Params = Map<string, tf.Tensor> // canonical HF names without `transformer.`

export class Gpt2 {
  readonly config: Gpt2Config
  readonly wte: tf.Tensor2D // [V, C]
  readonly wpe: tf.Tensor2D // [P, C]
  private readonly params: Params
  private readonly trainable: boolean
  // Frozen models keep wte transposed once so the vocabulary head is a plain matMul.
  private wteT: tf.Tensor2D | undefined

  private constructor(config: Gpt2Config, params: Params, trainable: boolean) {
    this.config = validateConfig(config)
    this.params = params
    this.trainable = trainable
    this.wte = params.get('wte.weight') as tf.Tensor2D
    this.wpe = params.get('wpe.weight') as tf.Tensor2D
    this.wteT = trainable ? undefined : tf.keep(tf.tidy(() => this.wte.transpose() as tf.Tensor2D))
  }

  /**
   * Build from named tensors (HF names, with or without `transformer.`), checking every name and shape.
   * The map stays the caller's: tensors are cloned (shared storage) or copied into Variables when
   * `trainable` (scratch training only; the CLLM4Rec backbone is frozen).
   */
  static fromWeights(
    config: Gpt2Config,
    weights: Map<string, tf.Tensor>,
    opts: { trainable?: boolean } = {},
  ): Gpt2 {
    validateConfig(config)
    const same = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => a.equal(b).all().dataSync()[0] === 1)
    const { weights: checked } = checkWeights(config, weights, 'weights', same)
    const trainable = opts.trainable ?? false
    const params: Params = new Map()
    for (const [name, t] of checked) {
      if (t.dtype !== 'float32')
        throw new Error(`weights: tensor "${name}" has dtype ${t.dtype}, expected float32`)
      // Unnamed variables: tfjs names must be unique process-wide and two scratch models may coexist.
      params.set(name, trainable ? tf.variable(t, true) : tf.clone(t))
    }
    return new Gpt2(config, params, trainable)
  }

  /** HF-style init: N(0, 0.02), residual projections N(0, 0.02/sqrt(2L)), biases 0, LayerNorm 1/0. */
  static random(config: Gpt2Config, seed: number, opts: { trainable?: boolean } = {}): Gpt2 {
    validateConfig(config)
    const weights = new Map<string, tf.Tensor>()
    let k = 0
    for (const [name, shape] of expectedShapes(config)) {
      const s = seed * 1000 + k++
      let t: tf.Tensor
      if (name.endsWith('ln_1.weight') || name.endsWith('ln_2.weight') || name === 'ln_f.weight')
        t = tf.ones(shape)
      else if (name.endsWith('.bias')) t = tf.zeros(shape)
      else {
        const std = name.endsWith('c_proj.weight') ? 0.02 / Math.sqrt(2 * config.nLayer) : 0.02
        t = tf.randomNormal(shape, 0, std, 'float32', s)
      }
      weights.set(name, t)
    }
    const model = Gpt2.fromWeights(config, weights, opts)
    tf.dispose([...weights.values()])
    return model
  }

  private p(name: string): tf.Tensor {
    const t = this.params.get(name)
    if (!t) throw new Error(`GPT-2 parameter ${name} missing`)
    return t
  }

  /** int32 [B, T] -> [B, T, C] */
  embedTokens(ids: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => tf.gather(this.wte, ids.toInt()) as tf.Tensor as tf.Tensor3D)
  }

  /**
   * x: token embeddings [B, T, C] without positions; positions continue after `past`. Returns the
   * final hidden states after ln_f [B, T, C] and, on request, the extended KV cache (caller disposes).
   */
  forwardEmbeds(
    x: tf.Tensor3D,
    opts: { past?: KvCache; returnCache?: boolean; dropout?: SeededDropout } = {},
  ): { hidden: tf.Tensor3D; cache?: KvCache } {
    const { nEmbd: C, nHead: H, nLayer, nPositions, layerNormEpsilon: eps } = this.config
    const [B, T, xc] = x.shape
    const past = opts.past
    const pastLen = past?.length ?? 0
    if (xc !== C) throw new Error(`forwardEmbeds: embedding width ${xc} != n_embd ${C}`)
    if (pastLen + T > nPositions)
      throw new Error(`forwardEmbeds: ${pastLen + T} positions exceed the context of ${nPositions}`)
    if (past && past.layers.length !== nLayer)
      throw new Error(`forwardEmbeds: cache has ${past.layers.length} layers, model ${nLayer}`)
    const D = C / H
    const exact = this.config.activation === 'gelu'
    // GPT-2's own dropout sites (HF GPT2Model): embeddings, attention weights, each residual branch.
    const dr = opts.dropout
    let dropCalls = 0
    const drop = <X extends tf.Tensor>(t: X, rate: number): X =>
      dr && rate > 0 ? (tf.dropout(t, rate, undefined, dr.seed + dropCalls++) as X) : t
    return tf.tidy(() => {
      let h = drop(x.add(this.wpe.slice([pastLen, 0], [T, C])) as tf.Tensor3D, dr?.rates.embd ?? 0) // [B, T, C]
      const mask = causalMask(T, pastLen + T, pastLen)
      const layers: KvCache['layers'] = []
      for (let i = 0; i < nLayer; i++) {
        const pre = `h.${i}.`
        const a = layerNorm(h, this.p(pre + 'ln_1.weight'), this.p(pre + 'ln_1.bias'), eps)
        const qkv = dense(a, this.p(pre + 'attn.c_attn.weight'), this.p(pre + 'attn.c_attn.bias')) // [B, T, 3C]
        // Split first, then one 4-D transpose each: wasm's rank-5 transpose costs far more than three slices.
        const [q, kNew, vNew] = tf
          .split(qkv, 3, 2)
          .map((t) => t.reshape([B, T, H, D]).transpose([0, 2, 1, 3])) as tf.Tensor4D[] // [B, H, T, D]
        const k = past ? (tf.concat([past.layers[i].k, kNew], 2) as tf.Tensor4D) : kNew
        const v = past ? (tf.concat([past.layers[i].v, vNew], 2) as tf.Tensor4D) : vNew
        if (opts.returnCache) layers.push({ k, v })
        const att = tf
          .matMul(q, k, false, true)
          .mul(1 / Math.sqrt(D))
          .add(mask)
          .softmax() // [B, H, T, S]
        const attDropped = drop(att, dr?.rates.attn ?? 0)
        const y = tf.matMul(attDropped, v).transpose([0, 2, 1, 3]).reshape([B, T, C]) as tf.Tensor3D
        const resid = dr?.rates.resid ?? 0
        h = h.add(drop(dense(y, this.p(pre + 'attn.c_proj.weight'), this.p(pre + 'attn.c_proj.bias')), resid))
        const m = layerNorm(h, this.p(pre + 'ln_2.weight'), this.p(pre + 'ln_2.bias'), eps)
        const f = gelu(
          dense(m, this.p(pre + 'mlp.c_fc.weight'), this.p(pre + 'mlp.c_fc.bias')),
          exact,
        ) as tf.Tensor3D
        h = h.add(drop(dense(f, this.p(pre + 'mlp.c_proj.weight'), this.p(pre + 'mlp.c_proj.bias')), resid))
      }
      const hidden = layerNorm(h, this.p('ln_f.weight'), this.p('ln_f.bias'), eps)
      return opts.returnCache ? { hidden, cache: { layers, length: pastLen + T } } : { hidden }
    })
  }

  /** [N, C] -> [N, V], tied to wte. Callers chunk N when V is large (50257 x N floats). */
  logits(hidden: tf.Tensor2D): tf.Tensor2D {
    const wteT = this.wteT
    if (!wteT) return tf.tidy(() => tf.matMul(hidden, this.wte, false, true))
    // Frozen head: forward h @ wteT and backward dy @ wte are both plain matMuls (no transpose of the
    // [V, C] table per step); no gradient is produced for the frozen wte.
    const wte = this.wte
    const head = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
      value: tf.matMul(args[0] as tf.Tensor2D, wteT),
      gradFunc: (dy: tf.Tensor) => tf.matMul(dy as tf.Tensor2D, wte),
    }))
    return tf.tidy(() => head(hidden) as tf.Tensor2D)
  }

  trainableWeights(): tf.Variable[] {
    return this.trainable ? ([...this.params.values()] as tf.Variable[]) : []
  }

  /** Float32 copies of every parameter under HF names (`transformer.` prefix), for safetensors. */
  async toRawWeights(): Promise<Map<string, RawTensor>> {
    const out = new Map<string, RawTensor>()
    for (const [name, t] of this.params)
      out.set(`transformer.${name}`, { shape: t.shape, data: (await t.data()) as Float32Array })
    return out
  }

  dispose(): void {
    tf.dispose([...this.params.values()])
    if (this.wteT) tf.dispose(this.wteT)
    this.wteT = undefined
  }
}

const REQUIRED_FILES = ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt']

/** Load an HF GPT-2 folder (config.json, model.safetensors, vocab.json, merges.txt). */
export async function loadGpt2(
  dir: string,
): Promise<{ model: Gpt2; tokenizer: Gpt2Tokenizer; config: Gpt2Config }> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
    throw new Error(`${dir}: GPT-2 model folder not found`)
  const missing = REQUIRED_FILES.filter((f) => !fs.existsSync(path.join(dir, f)))
  if (missing.length > 0) {
    throw new Error(`${dir}: not a GPT-2 folder in Hugging Face format; missing ${missing.join(', ')}`)
  }
  const config = readHfConfig(path.join(dir, 'config.json'))
  const tokenizer = Gpt2Tokenizer.fromDir(dir)
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new Error(
      `${dir}: tokenizer has ${tokenizer.vocabSize} tokens but config.json vocab_size is ${config.vocabSize}`,
    )
  }
  const file = path.join(dir, 'model.safetensors')
  const { tensors } = readSafetensors(file)
  const sameRaw = (a: RawTensor, b: RawTensor) => a.data.every((v, i) => v === b.data[i])
  const { weights } = checkWeights(config, tensors, file, sameRaw)
  const tfWeights = new Map<string, tf.Tensor>()
  for (const [name, t] of weights) tfWeights.set(name, tf.tensor(t.data, t.shape, 'float32'))
  try {
    return { model: Gpt2.fromWeights(config, tfWeights), tokenizer, config }
  } finally {
    tf.dispose([...tfWeights.values()])
  }
}
