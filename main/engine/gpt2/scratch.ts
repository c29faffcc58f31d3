// The built-in backbone ("LLM-Scratch") for users without a GPT-2 checkpoint: a small GPT-2 trained as a
// next-token LM on the project's own texts, written as a Hugging Face folder that loadGpt2 reads like
// any other backbone (CLLM4REC.md §1). Progress with ETA via callback; AbortSignal cancels.
import * as tf from '@tensorflow/tfjs'
import fs from 'node:fs'
import path from 'node:path'
import { learnBpe, mergesTxt, restrictGpt2Tokenizer, vocabJson, type BpeFiles } from './bpe-train'
import { toHfConfig, type Gpt2Config } from './config'
import { Gpt2 } from './model'
import { checkGpu } from '../backend'
import { encodeSafetensors } from './safetensors'
import { Gpt2Tokenizer } from './tokenizer'
import { mulberry32 } from '../../data/prng'
import { sparseCrossEntropySum } from '../fused-ce'
import { adam } from '../fused-adam'

export interface ScratchProgress {
  /** 0-based epoch of the step just taken. */
  epoch: number
  step: number
  totalSteps: number
  loss: number
  tokensPerSec: number
  etaSec: number
}

export interface ScratchOptions {
  outDir: string
  layers?: number
  width?: number
  heads?: number
  context?: number
  epochs?: number
  seed?: number
  vocabSize?: number
  /** HF GPT-2 folder (vocab.json + merges.txt): use GPT-2's BPE restricted to the corpus. */
  tokenizerDir?: string
  batchSize?: number
  learningRate?: number
  /** Return the trained model too (caller disposes it); otherwise it is disposed after saving. */
  keepModel?: boolean
  onProgress?: (p: ScratchProgress) => void
  signal?: AbortSignal
}

// Defaults sized for a CPU/wasm laptop run of a few minutes on a few thousand documents.
export const SCRATCH_DEFAULTS = {
  layers: 2,
  width: 128,
  heads: 4,
  context: 128,
  epochs: 2,
  seed: 1,
  vocabSize: 4000,
  batchSize: 8,
  learningRate: 3e-3,
}

export const PROVENANCE_FILE = 'tokenizer-provenance.json'

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0)
    throw new Error(`trainScratchBackbone: ${name} must be a positive integer, got ${v}`)
  return v
}

/** Corpus -> one token stream (documents separated by <|endoftext|>) cut into windows of context+1. */
function windows(tokenizer: Gpt2Tokenizer, texts: string[], context: number): number[][] {
  const stream: number[] = []
  for (const t of texts) {
    stream.push(...tokenizer.encode(t))
    stream.push(tokenizer.eosId as number)
  }
  if (stream.length < 2) throw new Error('trainScratchBackbone: the corpus has no text to train on')
  const out: number[][] = []
  for (let s = 0; s + context + 1 <= stream.length; s += context) out.push(stream.slice(s, s + context + 1))
  if (out.length === 0) out.push(stream) // corpus shorter than one window: one short window
  return out
}

type ResolvedScratch = Required<
  Omit<ScratchOptions, 'outDir' | 'tokenizerDir' | 'signal' | 'onProgress' | 'keepModel'>
>

/** Options with defaults filled in, each checked. */
function resolveScratchOptions(opts: ScratchOptions): ResolvedScratch {
  const d = SCRATCH_DEFAULTS
  const o = {
    layers: opts.layers ?? d.layers,
    width: opts.width ?? d.width,
    heads: opts.heads ?? d.heads,
    context: opts.context ?? d.context,
    epochs: opts.epochs ?? d.epochs,
    seed: opts.seed ?? d.seed,
    vocabSize: opts.vocabSize ?? d.vocabSize,
    batchSize: opts.batchSize ?? d.batchSize,
    learningRate: opts.learningRate ?? d.learningRate,
  }
  for (const k of ['layers', 'width', 'heads', 'context', 'epochs', 'vocabSize', 'batchSize'] as const)
    positiveInt(k, o[k])
  if (!Number.isInteger(o.seed))
    throw new Error(`trainScratchBackbone: seed must be an integer, got ${o.seed}`)
  if (o.width % o.heads !== 0)
    throw new Error(`trainScratchBackbone: width ${o.width} must be divisible by heads ${o.heads}`)
  if (!opts.outDir) throw new Error('trainScratchBackbone: outDir is required')
  return o
}

/** The backbone's tokenizer: GPT-2's BPE restricted to the corpus, or one learned on it; and its provenance. */
function scratchTokenizer(
  texts: string[],
  opts: ScratchOptions,
  vocabSize: number,
): { files: BpeFiles; provenance: Record<string, unknown> } {
  if (opts.tokenizerDir) {
    const files = restrictGpt2Tokenizer(Gpt2Tokenizer.fromDir(opts.tokenizerDir), texts)
    return {
      files,
      provenance: {
        kind: 'gpt2-restricted',
        note: 'GPT-2 BPE limited to the merges this corpus uses; originalIds[newId] is the GPT-2 id',
        source: path.basename(path.resolve(opts.tokenizerDir)),
        originalIds: files.originalIds,
      },
    }
  }
  return {
    files: learnBpe(texts, vocabSize, opts.signal),
    provenance: {
      kind: 'learned-bpe',
      note: 'byte-level BPE learned on the corpus with GPT-2 algorithm and format',
    },
  }
}

/** Epochs of seeded-order batches over the windows; returns the last step's loss. */
async function trainEpochs(
  model: Gpt2,
  data: number[][],
  o: ResolvedScratch,
  opts: ScratchOptions,
): Promise<number> {
  const optimizer = adam(o.learningRate, 0.9, 0.999, 1e-8)
  // Seeded (Math.random is not reproducible): the batch order.
  const random = mulberry32(o.seed)
  const stepsPerEpoch = Math.ceil(data.length / o.batchSize)
  const totalSteps = stepsPerEpoch * o.epochs
  let step = 0
  let finalLoss = NaN
  let tokens = 0
  const start = performance.now()
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const order = data.map((_, i) => i)
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1))
        ;[order[i], order[j]] = [order[j], order[i]]
      }
      for (let b = 0; b < stepsPerEpoch; b++) {
        if (opts.signal?.aborted) throw new Error('trainScratchBackbone: aborted')
        const batch = order.slice(b * o.batchSize, (b + 1) * o.batchSize).map((i) => data[i])
        finalLoss = await trainStep(model, optimizer, batch)
        step++
        tokens += batch.length * (batch[0].length - 1)
        const sec = (performance.now() - start) / 1000
        opts.onProgress?.({
          epoch,
          step,
          totalSteps,
          loss: finalLoss,
          tokensPerSec: tokens / sec,
          etaSec: (sec / step) * (totalSteps - step),
        })
        // Yield so a caller's abort (timer, IPC message) can run between steps.
        await new Promise((r) => setImmediate(r))
      }
    }
  } finally {
    optimizer.dispose()
  }
  return finalLoss
}

export async function trainScratchBackbone(
  texts: string[],
  opts: ScratchOptions,
): Promise<{ dir: string; finalLoss: number; model?: Gpt2 }> {
  const o = resolveScratchOptions(opts)
  const clean = texts.filter((t) => typeof t === 'string' && t.trim() !== '')
  if (clean.length === 0) throw new Error('trainScratchBackbone: no non-empty texts given')
  const { files, provenance } = scratchTokenizer(clean, opts, o.vocabSize)
  const tokenizer = new Gpt2Tokenizer(files.vocab, files.merges, 'scratch tokenizer')
  const data = windows(tokenizer, clean, o.context)
  const config: Gpt2Config = {
    vocabSize: tokenizer.vocabSize,
    nPositions: o.context,
    nEmbd: o.width,
    nLayer: o.layers,
    nHead: o.heads,
    layerNormEpsilon: 1e-5,
  }
  const model = Gpt2.random(config, o.seed, { trainable: true })
  let finalLoss: number
  try {
    finalLoss = await trainEpochs(model, data, o, opts)
    const { seed, epochs, batchSize, learningRate } = o
    const hfConfig = toHfConfig(config, {
      cllm4rec_scratch: { seed, epochs, batchSize, learningRate, finalLoss },
    })
    writeFolderAtomic(opts.outDir, {
      'config.json': JSON.stringify(hfConfig, null, 2),
      'model.safetensors': encodeSafetensors(await model.toRawWeights(), { format: 'pt' }),
      'vocab.json': vocabJson(files),
      'merges.txt': mergesTxt(files),
      [PROVENANCE_FILE]: JSON.stringify(
        { ...provenance, vocabSize: tokenizer.vocabSize, documents: clean.length },
        null,
        1,
      ),
    })
  } catch (e) {
    model.dispose()
    throw e
  }
  if (opts.keepModel) return { dir: opts.outDir, finalLoss, model }
  model.dispose()
  return { dir: opts.outDir, finalLoss }
}

/** One Adam step on next-token cross-entropy over equal-length windows; returns the loss. */
async function trainStep(model: Gpt2, optimizer: tf.Optimizer, batch: number[][]): Promise<number> {
  const loss = tf.tidy(() => {
    const B = batch.length
    const T = batch[0].length - 1
    const inputs = tf.tensor2d(
      batch.map((w) => w.slice(0, T)),
      [B, T],
      'int32',
    )
    const targets = Int32Array.from(batch.flatMap((w) => w.slice(1)))
    const { value, grads } = tf.variableGrads(() => {
      const { hidden } = model.forwardEmbeds(model.embedTokens(inputs))
      const logits = model.logits(hidden.reshape([B * T, model.config.nEmbd]) as tf.Tensor2D)
      return sparseCrossEntropySum(logits, targets).div(B * T) as tf.Scalar
    }, model.trainableWeights())
    optimizer.applyGradients(grads)
    return value
  })
  // The step's one readback, awaited: GPU backends have no synchronous one.
  try {
    return (await loss.data())[0]
  } finally {
    loss.dispose()
    checkGpu()
  }
}

/** Write every file into a sibling temp folder (each fsynced), then swap it into place by rename. */
function writeFolderAtomic(dir: string, files: Record<string, string | Uint8Array>): void {
  const abs = path.resolve(dir)
  fs.mkdirSync(path.dirname(abs), { recursive: true })
  const tmp = `${abs}.tmp-${process.pid}-${Date.now()}`
  fs.mkdirSync(tmp)
  try {
    for (const [name, data] of Object.entries(files)) {
      const fd = fs.openSync(path.join(tmp, name), 'w')
      try {
        fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data)
        fs.fsyncSync(fd)
      } finally {
        fs.closeSync(fd)
      }
    }
    if (fs.existsSync(abs)) {
      const old = `${abs}.old-${process.pid}-${Date.now()}`
      fs.renameSync(abs, old)
      fs.renameSync(tmp, abs)
      fs.rmSync(old, { recursive: true, force: true })
    } else fs.renameSync(tmp, abs)
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true })
    throw e
  }
}
