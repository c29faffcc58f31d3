// HF config.json parsing: the real tiny-gpt2 config, and errors that name the file and the field.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseHfConfig, readHfConfig, toHfConfig } from '../../../main/engine/gpt2/config'

const TINY = path.resolve(__dirname, '../../../../shared/data/tiny-gpt2')

describe('GPT-2 config', () => {
  it('reads tiny-gpt2 config.json', () => {
    expect(readHfConfig(path.join(TINY, 'config.json'))).toEqual({
      vocabSize: 50257,
      nPositions: 1024,
      nEmbd: 2,
      nLayer: 2,
      nHead: 2,
      layerNormEpsilon: 1e-5,
      activation: 'gelu_new',
      dropout: { embd: 0.1, attn: 0.1, resid: 0.1 },
    })
  })

  it('round-trips through toHfConfig and accepts n_ctx when n_positions is absent', () => {
    const c = { vocabSize: 300, nPositions: 64, nEmbd: 32, nLayer: 2, nHead: 4, layerNormEpsilon: 1e-5 }
    expect(parseHfConfig(toHfConfig(c))).toMatchObject(c)
    const j = toHfConfig(c)
    delete j.n_positions
    expect(parseHfConfig(j).nPositions).toBe(64)
  })

  const base = () =>
    toHfConfig({ vocabSize: 300, nPositions: 64, nEmbd: 32, nLayer: 2, nHead: 4, layerNormEpsilon: 1e-5 })
  const cases: [string, (j: Record<string, unknown>) => void, RegExp][] = [
    ['a missing field', (j) => delete j.n_layer, /cfg\.json: missing field "n_layer"/],
    ['a non-number', (j) => (j.n_embd = '32'), /cfg\.json: field "n_embd" must be a number, got "32"/],
    ['a non-integer', (j) => (j.n_head = 2.5), /cfg\.json: nHead must be a positive integer, got 2\.5/],
    [
      'an unsupported activation',
      (j) => (j.activation_function = 'silu'),
      /activation_function "silu" is not supported/,
    ],
    ['an untied head', (j) => (j.tie_word_embeddings = false), /tie_word_embeddings=false is not supported/],
    ['a custom MLP width', (j) => (j.n_inner = 100), /n_inner 100 is not supported/],
    [
      'a bad epsilon',
      (j) => (j.layer_norm_epsilon = -1),
      /layer_norm_epsilon must be a small positive number/,
    ],
  ]
  for (const [name, edit, msg] of cases) {
    it(`rejects ${name}`, () => {
      const j = base()
      edit(j)
      expect(() => parseHfConfig(j, 'cfg.json')).toThrow(msg)
    })
  }

  it('names the file for unreadable or invalid JSON', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpt2-cfg-'))
    const f = path.join(dir, 'config.json')
    expect(() => readHfConfig(f)).toThrow(/config\.json: cannot read GPT-2 config/)
    fs.writeFileSync(f, '{"n_embd": 2,')
    expect(() => readHfConfig(f)).toThrow(/config\.json: invalid JSON/)
    fs.rmSync(dir, { recursive: true })
  })
})
