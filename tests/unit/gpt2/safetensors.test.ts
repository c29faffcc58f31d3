// safetensors parsing and GPT-2 weight checking: a hand-built checkpoint with outputs worked out by
// hand, and one malformed file per failure mode, each of which must name the file and the tensor.
import * as tf from '@tensorflow/tfjs'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../main/engine/backend'
import { toHfConfig, type Gpt2Config } from '../../../main/engine/gpt2/config'
import { Gpt2, loadGpt2 } from '../../../main/engine/gpt2/model'
import {
  encodeSafetensors,
  parseSafetensors,
  readSafetensors,
  type RawTensor,
} from '../../../main/engine/gpt2/safetensors'
import { expectedShapes } from '../../../main/engine/gpt2/weights'

const TINY = path.resolve(__dirname, '../../../../shared/data/tiny-gpt2')
let tmp: string

beforeAll(async () => {
  await initBackend('wasm')
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpt2-st-'))
})
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

/** Build safetensors bytes by hand (independent of encodeSafetensors). */
function handBuilt(header: Record<string, unknown>, data: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8')
  const len = Buffer.alloc(8)
  len.writeBigUInt64LE(BigInt(json.length))
  return Buffer.concat([len, json, data])
}

describe('safetensors reader', () => {
  it('reads the real tiny-gpt2 file: 28 F32 tensors, 102,714 parameters', () => {
    const { tensors, metadata } = readSafetensors(path.join(TINY, 'model.safetensors'))
    expect(tensors.size).toBe(28)
    expect([...tensors.values()].reduce((s, t) => s + t.data.length, 0)).toBe(102714)
    expect(tensors.get('transformer.wte.weight')?.shape).toEqual([50257, 2])
    expect(metadata.format).toBe('pt')
  })

  it('converts F16 and BF16 to float32 exactly', () => {
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001]) // 1, -2, 0.333251953125, 2^-24
    const bf16 = new Uint16Array([0x3f80, 0xc0a0]) // 1, -5
    const bytes = new Uint8Array(12)
    bytes.set(new Uint8Array(f16.buffer), 0)
    bytes.set(new Uint8Array(bf16.buffer), 8)
    const f = parseSafetensors(
      handBuilt(
        {
          a: { dtype: 'F16', shape: [4], data_offsets: [0, 8] },
          b: { dtype: 'BF16', shape: [2], data_offsets: [8, 12] },
        },
        bytes,
      ),
    )
    expect(Array.from(f.tensors.get('a')!.data)).toEqual([1, -2, 0.333251953125, 2 ** -24])
    expect(Array.from(f.tensors.get('b')!.data)).toEqual([1, -5])
  })

  it('round-trips through the writer', () => {
    const m = new Map<string, RawTensor>([
      ['x', { shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6.5]) }],
      ['y', { shape: [1], data: new Float32Array([-7]) }],
    ])
    const back = parseSafetensors(encodeSafetensors(m, { note: 'hi' }))
    expect(back.metadata).toEqual({ note: 'hi' })
    expect(Array.from(back.tensors.get('x')!.data)).toEqual([1, 2, 3, 4, 5, 6.5])
    expect(back.tensors.get('x')!.shape).toEqual([2, 3])
  })

  const f32 = (n: number) => new Uint8Array(new Float32Array(n).buffer)
  const bad: [string, () => Buffer, RegExp][] = [
    ['a file shorter than the length prefix', () => Buffer.from([1, 2, 3]), /bad\.safetensors: truncated/],
    [
      'a header running past the end',
      () => handBuilt({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(1)).subarray(0, 20),
      /bad\.safetensors: truncated/,
    ],
    [
      'truncated tensor data',
      () => handBuilt({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f32(2)),
      /bad\.safetensors: tensor "w": data_offsets \[0, 16\] out of range.*truncated/,
    ],
    [
      'bad header JSON',
      () => {
        const b = handBuilt({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(1))
        b[9] = 0x7b // '{{' is invalid JSON
        return b
      },
      /bad\.safetensors: bad safetensors header JSON/,
    ],
    [
      'offsets out of range',
      () => handBuilt({ w: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, f32(1)),
      /tensor "w": data_offsets \[8, 12\] out of range/,
    ],
    [
      'overlapping tensors',
      () =>
        handBuilt(
          {
            a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
            b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
          },
          f32(3),
        ),
      /tensors "a" and "b" overlap/,
    ],
    [
      'an unknown dtype',
      () => handBuilt({ w: { dtype: 'F99', shape: [1], data_offsets: [0, 4] } }, f32(1)),
      /tensor "w": unknown dtype "F99"/,
    ],
    [
      'an unsupported dtype',
      () => handBuilt({ w: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, f32(2)),
      /tensor "w": dtype I64 is not supported/,
    ],
    [
      'byte count not matching the shape',
      () => handBuilt({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f32(2)),
      /tensor "w": 8 bytes for shape \[3\] F32, expected 12/,
    ],
  ]
  for (const [name, make, msg] of bad) {
    it(`rejects ${name} with a message naming file and tensor`, () => {
      const file = path.join(tmp, 'bad.safetensors')
      fs.writeFileSync(file, make())
      expect(() => readSafetensors(file)).toThrow(msg)
    })
  }
})

// A 1-layer, 2-wide GPT-2 whose blocks add only constant biases, so its logits follow from a formula.
const CFG: Gpt2Config = { vocabSize: 3, nPositions: 4, nEmbd: 2, nLayer: 1, nHead: 1, layerNormEpsilon: 1e-5 }
function handWeights(): Map<string, RawTensor> {
  const m = new Map<string, RawTensor>()
  for (const [name, shape] of expectedShapes(CFG)) {
    const n = shape.reduce((p, d) => p * d, 1)
    m.set(`transformer.${name}`, { shape, data: new Float32Array(n) })
  }
  m.get('transformer.wte.weight')!.data.set([1, 0, 0, 1, 2, -2])
  m.get('transformer.wpe.weight')!.data.set([0, 0, 0.5, 0, 0, 0, 0, 0])
  m.get('transformer.h.0.mlp.c_proj.bias')!.data.set([0, 3]) // every position gets +[0, 3]
  m.get('transformer.ln_f.weight')!.data.set([1, 1])
  m.get('transformer.ln_f.bias')!.data.set([0.25, 0])
  m.get('transformer.h.0.ln_1.weight')!.data.set([1, 1])
  m.get('transformer.h.0.ln_2.weight')!.data.set([1, 1])
  return m
}

function writeModelDir(name: string, weights: Map<string, RawTensor>, cfg: Gpt2Config): string {
  const dir = path.join(tmp, name)
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(toHfConfig(cfg)))
  fs.writeFileSync(path.join(dir, 'model.safetensors'), encodeSafetensors(weights))
  fs.copyFileSync(path.join(TINY, 'vocab.json'), path.join(dir, 'vocab.json'))
  fs.copyFileSync(path.join(TINY, 'merges.txt'), path.join(dir, 'merges.txt'))
  return dir
}

describe('GPT-2 weights: hand-built checkpoint', () => {
  it('computes the logits worked out by hand', () => {
    // Blocks contribute only +[0, 3] (attention and MLP weights are zero), so the final hidden state is
    // LN(wte[id] + wpe[pos] + [0, 3]) and a 2-vector [a, b] normalises to +-d/sqrt(d^2 + eps), d = (a-b)/2.
    const tfw = new Map([...handWeights()].map(([k, v]) => [k, tf.tensor(v.data, v.shape)]))
    const m = Gpt2.fromWeights(CFG, tfw)
    tf.dispose([...tfw.values()])
    const ids = [0, 2, 1]
    const got = tf.tidy(() => {
      const { hidden } = m.forwardEmbeds(m.embedTokens(tf.tensor2d([ids], undefined, 'int32')))
      return m.logits(hidden.reshape([3, 2]) as tf.Tensor2D).arraySync()
    })
    const wte = [
      [1, 0],
      [0, 1],
      [2, -2],
    ]
    const wpe = [
      [0, 0],
      [0.5, 0],
      [0, 0],
    ]
    ids.forEach((id, t) => {
      const a = wte[id][0] + wpe[t][0]
      const b = wte[id][1] + wpe[t][1] + 3
      const d = (a - b) / 2
      const s = d / Math.sqrt(d * d + 1e-5)
      const h = [s + 0.25, -s]
      for (let v = 0; v < 3; v++) expect(got[t][v]).toBeCloseTo(h[0] * wte[v][0] + h[1] * wte[v][1], 5)
    })
    m.dispose()
  })
})

describe('GPT-2 weights: checked loading', () => {
  const cfg50k = { vocabSize: 50257, nPositions: 4, nEmbd: 2, nLayer: 1, nHead: 1, layerNormEpsilon: 1e-5 }
  function weights50k(): Map<string, RawTensor> {
    const m = new Map<string, RawTensor>()
    for (const [name, shape] of expectedShapes(cfg50k)) {
      const data = new Float32Array(shape.reduce((p, d) => p * d, 1))
      for (let i = 0; i < data.length; i++) data[i] = Math.sin(i + name.length)
      m.set(name, { shape, data }) // no `transformer.` prefix: accepted too
    }
    return m
  }

  it('loads a folder without the transformer. prefix, with attn buffers and a tied lm_head', async () => {
    const w = weights50k()
    w.set('h.0.attn.bias', { shape: [1, 1, 4, 4], data: new Float32Array(16) })
    w.set('lm_head.weight', { shape: [50257, 2], data: w.get('wte.weight')!.data.slice() })
    const { model, tokenizer, config } = await loadGpt2(writeModelDir('ok', w, cfg50k))
    expect(config.nLayer).toBe(1)
    expect(tokenizer.vocabSize).toBe(50257)
    expect(Array.from(model.wte.slice([1, 0], [1, 2]).dataSync())).toEqual(
      Array.from(w.get('wte.weight')!.data.slice(2, 4)),
    )
    model.dispose()
  })

  const cases: [string, (w: Map<string, RawTensor>) => void, RegExp][] = [
    [
      'a missing tensor',
      (w) => w.delete('h.0.mlp.c_fc.bias'),
      /model\.safetensors: missing 1 tensor\(s\): h\.0\.mlp\.c_fc\.bias/,
    ],
    [
      'an extra tensor',
      (w) => w.set('h.1.ln_1.weight', { shape: [2], data: new Float32Array(2) }),
      /model\.safetensors: unexpected tensor\(s\).*h\.1\.ln_1\.weight/,
    ],
    [
      'a mismatched shape',
      (w) => w.set('h.0.attn.c_attn.weight', { shape: [6, 2], data: new Float32Array(12) }),
      /tensor "h\.0\.attn\.c_attn\.weight" has shape \[6,2\], config needs \[2,6\]/,
    ],
    [
      'an untied lm_head',
      (w) => w.set('lm_head.weight', { shape: [50257, 2], data: new Float32Array(100514).fill(1) }),
      /lm_head\.weight differs from wte\.weight/,
    ],
  ]
  for (const [name, edit, msg] of cases) {
    it(`rejects ${name}`, async () => {
      const w = weights50k()
      edit(w)
      await expect(loadGpt2(writeModelDir('bad-' + name.replace(/\W+/g, '-'), w, cfg50k))).rejects.toThrow(
        msg,
      )
    })
  }

  it('rejects a missing folder, missing files, and a bad config', async () => {
    await expect(loadGpt2(path.join(tmp, 'nope'))).rejects.toThrow(/GPT-2 model folder not found/)
    const dir = writeModelDir('cfg', weights50k(), cfg50k)
    fs.rmSync(path.join(dir, 'merges.txt'))
    await expect(loadGpt2(dir)).rejects.toThrow(/missing merges\.txt/)
    const dir2 = writeModelDir('cfg2', weights50k(), cfg50k)
    fs.writeFileSync(
      path.join(dir2, 'config.json'),
      JSON.stringify({ ...toHfConfig(cfg50k), activation_function: 'relu' }),
    )
    await expect(loadGpt2(dir2)).rejects.toThrow(/config\.json: activation_function "relu" is not supported/)
    fs.writeFileSync(path.join(dir2, 'config.json'), JSON.stringify({ ...toHfConfig(cfg50k), n_head: 3 }))
    await expect(loadGpt2(dir2)).rejects.toThrow(/n_embd \(2\) must be divisible by n_head \(3\)/)
  })
})
