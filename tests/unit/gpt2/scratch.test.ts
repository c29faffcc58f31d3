// The scratch backbone: tokenizer building (learned BPE and restricted GPT-2), training that lowers the
// loss, an HF folder that loadGpt2 reads back with identical logits, determinism, abort, no leaks.
import * as tf from '@tensorflow/tfjs'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../main/engine/backend'
import { learnBpe, restrictGpt2Tokenizer } from '../../../main/engine/gpt2/bpe-train'
import { loadGpt2, type Gpt2 } from '../../../main/engine/gpt2/model'
import {
  PROVENANCE_FILE,
  trainScratchBackbone,
  type ScratchProgress,
} from '../../../main/engine/gpt2/scratch'
import { Gpt2Tokenizer } from '../../../main/engine/gpt2/tokenizer'

const TINY = path.resolve(__dirname, '../../../../shared/data/tiny-gpt2')
const REVIEWS = path.resolve(
  __dirname,
  '../../../../shared/data/amazon-all-beauty-2018/converted/reviews.jsonl',
)

// A few hundred real sentences from review text.
const sentences = [
  ...new Set(
    fs
      .readFileSync(REVIEWS, 'utf8')
      .split('\n')
      .filter(Boolean)
      .slice(0, 200)
      .flatMap((l) => (JSON.parse(l).review_text as string).split(/(?<=[.!?])\s+/))
      .filter((s) => s.length > 10),
  ),
].slice(0, 300)

const SMALL = {
  layers: 1,
  width: 32,
  heads: 2,
  context: 32,
  vocabSize: 400,
  epochs: 2,
  batchSize: 8,
  seed: 3,
}
let tmp: string

beforeAll(async () => {
  await initBackend('wasm')
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpt2-scratch-'))
})
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

function lastLogits(m: Gpt2, ids: number[]): Float32Array {
  return tf.tidy(() => {
    const { hidden } = m.forwardEmbeds(m.embedTokens(tf.tensor2d([ids], undefined, 'int32')))
    return m.logits(hidden.reshape([ids.length, -1]) as tf.Tensor2D).dataSync() as Float32Array
  })
}

describe('scratch tokenizers', () => {
  it('learns a byte-level BPE in GPT-2 format that round-trips and compresses', () => {
    const f = learnBpe(sentences, 500)
    expect(f.vocab.size).toBe(500)
    expect(f.merges.length).toBe(500 - 257)
    const tok = new Gpt2Tokenizer(f.vocab, f.merges)
    const text = sentences.slice(0, 20).join(' ')
    const ids = tok.encode(text)
    expect(tok.decode(ids)).toBe(text)
    expect(tok.decode(tok.encode('unseen 🎉 naïve'))).toBe('unseen 🎉 naïve')
    expect(text.length / ids.length).toBeGreaterThan(1.5) // bytes alone give 1.0
    expect(learnBpe(sentences, 500).merges).toEqual(f.merges) // deterministic
  })

  it('restricts GPT-2 BPE to the corpus, tokenizing corpus text exactly as GPT-2 does', () => {
    const gpt2 = Gpt2Tokenizer.fromDir(TINY)
    const f = restrictGpt2Tokenizer(gpt2, sentences)
    const tok = new Gpt2Tokenizer(f.vocab, f.merges)
    expect(tok.vocabSize).toBeLessThan(5000)
    for (const s of sentences.slice(0, 50)) {
      expect(tok.encode(s).map((i) => f.originalIds![i])).toEqual(gpt2.encode(s))
    }
    expect(f.originalIds![tok.eosId as number]).toBe(50256)
  })
})

describe('trainScratchBackbone', () => {
  it('lowers the loss, reports progress, writes an HF folder that reloads with identical logits, no leaks', async () => {
    const progress: ScratchProgress[] = []
    const before = tf.memory().numTensors
    const dir = path.join(tmp, 'a')
    const r = await trainScratchBackbone(sentences, {
      ...SMALL,
      outDir: dir,
      keepModel: true,
      onProgress: (p) => progress.push(p),
    })
    expect(progress.length).toBe(progress[0].totalSteps)
    expect(progress.at(-1)!.etaSec).toBe(0)
    // Epochs count up from 0 and each holds the same number of steps.
    const perEpoch = progress[0].totalSteps / SMALL.epochs
    expect(progress.map((p) => p.epoch)).toEqual(progress.map((_, i) => Math.floor(i / perEpoch)))
    expect(progress.every((p) => p.tokensPerSec > 0 && Number.isFinite(p.loss))).toBe(true)
    const avg = (ps: ScratchProgress[]) => ps.reduce((s, p) => s + p.loss, 0) / ps.length
    expect(avg(progress.slice(-3))).toBeLessThan(avg(progress.slice(0, 3)) - 0.5)
    expect(r.finalLoss).toBe(progress.at(-1)!.loss)
    for (const f of ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt', PROVENANCE_FILE]) {
      expect(fs.existsSync(path.join(dir, f))).toBe(true)
    }
    expect(fs.readdirSync(tmp).filter((n) => n.includes('.tmp-'))).toEqual([])
    const loaded = await loadGpt2(dir)
    expect(loaded.config).toMatchObject({ nLayer: 1, nEmbd: 32, nHead: 2, nPositions: 32, vocabSize: 400 })
    const ids = loaded.tokenizer.encode('This product is great for my skin')
    expect(Array.from(lastLogits(loaded.model, ids))).toEqual(Array.from(lastLogits(r.model!, ids)))
    loaded.model.dispose()
    r.model!.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })

  it('is deterministic for a seed and differs across seeds', async () => {
    const a = await trainScratchBackbone(sentences.slice(0, 100), {
      ...SMALL,
      epochs: 1,
      outDir: path.join(tmp, 'd1'),
    })
    const b = await trainScratchBackbone(sentences.slice(0, 100), {
      ...SMALL,
      epochs: 1,
      outDir: path.join(tmp, 'd2'),
    })
    await trainScratchBackbone(sentences.slice(0, 100), {
      ...SMALL,
      epochs: 1,
      seed: 4,
      outDir: path.join(tmp, 'd3'),
    })
    expect(a.finalLoss).toBe(b.finalLoss)
    const bytes = (d: string) => fs.readFileSync(path.join(tmp, d, 'model.safetensors'))
    expect(bytes('d1').equals(bytes('d2'))).toBe(true)
    expect(bytes('d1').equals(bytes('d3'))).toBe(false)
  })

  it('uses a restricted GPT-2 tokenizer when given one, recorded in the provenance file', async () => {
    const dir = path.join(tmp, 'g')
    await trainScratchBackbone(sentences.slice(0, 60), {
      ...SMALL,
      epochs: 1,
      tokenizerDir: TINY,
      outDir: dir,
    })
    const prov = JSON.parse(fs.readFileSync(path.join(dir, PROVENANCE_FILE), 'utf8'))
    expect(prov.kind).toBe('gpt2-restricted')
    const { tokenizer, model } = await loadGpt2(dir)
    expect(prov.originalIds.length).toBe(tokenizer.vocabSize)
    const gpt2 = Gpt2Tokenizer.fromDir(TINY)
    expect(tokenizer.encode(sentences[0]).map((i) => prov.originalIds[i])).toEqual(gpt2.encode(sentences[0]))
    model.dispose()
  })

  it('aborts without writing anything, and rejects bad options by name', async () => {
    const ctrl = new AbortController()
    const dir = path.join(tmp, 'aborted')
    const p = trainScratchBackbone(sentences, {
      ...SMALL,
      outDir: dir,
      onProgress: (q) => q.step === 2 && ctrl.abort(),
      signal: ctrl.signal,
    })
    await expect(p).rejects.toThrow(/aborted/)
    expect(fs.existsSync(dir)).toBe(false)
    await expect(
      trainScratchBackbone(sentences, { ...SMALL, width: 30, heads: 4, outDir: dir }),
    ).rejects.toThrow(/width 30 must be divisible by heads 4/)
    await expect(trainScratchBackbone(['', ' '], { ...SMALL, outDir: dir })).rejects.toThrow(
      /no non-empty texts/,
    )
  })
})
