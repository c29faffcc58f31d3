// GPT-2 byte-level BPE on the real vocab.json/merges.txt: known ids and lossless round trips.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  bytesToUnicode,
  byteSymbolsInVocabOrder,
  Gpt2Tokenizer,
  preTokenize,
} from '../../../main/engine/gpt2/tokenizer'

const TINY = path.resolve(__dirname, '../../../../shared/data/tiny-gpt2')
const REVIEWS = path.resolve(
  __dirname,
  '../../../../shared/data/amazon-all-beauty-2018/converted/reviews.jsonl',
)
const tok = Gpt2Tokenizer.fromDir(TINY)

describe('GPT-2 tokenizer', () => {
  it('gives the known GPT-2 ids', () => {
    expect(tok.encode('Hello world')).toEqual([15496, 995])
    expect(tok.encode(' the')).toEqual([262])
    expect(tok.encode('This is a test')).toEqual([1212, 318, 257, 1332])
    expect(tok.encode('user has interacted with')).toEqual([7220, 468, 49236, 351])
    expect(tok.encode('!')).toEqual([0])
    expect(tok.encode('<|endoftext|>')).toEqual([50256])
    expect(tok.eosId).toBe(50256)
    expect(tok.vocabSize).toBe(50257)
  })

  it('has the byte map and vocab order of GPT-2', () => {
    const m = bytesToUnicode()
    expect(new Set(m).size).toBe(256)
    expect(m[32]).toBe('Ġ')
    expect(m[10]).toBe('Ċ')
    expect(byteSymbolsInVocabOrder().map((c) => tok.vocab.get(c))).toEqual([...Array(256).keys()])
  })

  it('pre-tokenizes contractions, letters, numbers, punctuation and whitespace like GPT-2', () => {
    expect(preTokenize("I'm   here, 2024!!\n")).toEqual(['I', "'m", 'ĠĠ', 'Ġhere', ',', 'Ġ2024', '!!', 'Ċ'])
  })

  const samples = [
    'Plain ASCII text.',
    'héllo wörld — naïve café, 日本語のテキスト, Ελληνικά',
    'emoji 🎉👩‍👩‍👧 and flags 🇫🇷',
    '  leading and trailing spaces  ',
    'tabs\tand\nnew\r\nlines\n\n\n   indented',
    "contractions: I'll, you're, it's, we've, they'd",
    'numbers 3.14159 and 1,000,000',
  ]
  it('round-trips unicode, emoji and whitespace exactly', () => {
    for (const s of samples) {
      const ids = tok.encode(s)
      expect(tok.decode(ids)).toBe(s)
      expect(ids.every((i) => Number.isInteger(i) && i >= 0 && i < 50257)).toBe(true)
    }
    expect(tok.pieces(tok.encode('Hello world'))).toEqual(['Hello', ' world'])
  })

  it('round-trips 300 real reviews', () => {
    const lines = fs.readFileSync(REVIEWS, 'utf8').split('\n').filter(Boolean).slice(0, 300)
    let tokens = 0
    let chars = 0
    for (const l of lines) {
      const text = JSON.parse(l).review_text as string
      const ids = tok.encode(text)
      tokens += ids.length
      chars += text.length
      expect(tok.decode(ids)).toBe(text)
    }
    // English BPE: roughly 4 characters per token; a broken merge table would give ~1.
    expect(chars / tokens).toBeGreaterThan(3)
  })

  it('rejects bad files with the file name and line', () => {
    expect(() => Gpt2Tokenizer.fromText('{"a": 0', '', 'v.json')).toThrow(/v\.json: invalid JSON/)
    const vocab = JSON.stringify(Object.fromEntries(byteSymbolsInVocabOrder().map((c, i) => [c, i])))
    expect(() => Gpt2Tokenizer.fromText(vocab, '#version: 0.2\na b c\n', 'v.json', 'm.txt')).toThrow(
      /m\.txt: line 2/,
    )
    expect(() => Gpt2Tokenizer.fromText(vocab, 'a b\n', 'v.json', 'm.txt')).toThrow(
      /merge 1 "a b" produces a token not in vocab/,
    )
    expect(() => tok.decode([50257])).toThrow(/outside the vocabulary/)
  })
})
