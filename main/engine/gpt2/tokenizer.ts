// GPT-2 byte-level BPE tokenizer (vocab.json + merges.txt), written from the published algorithm:
// text -> GPT-2 pre-tokenizer regex -> UTF-8 bytes mapped to printable unicode (bytes_to_unicode)
// -> BPE merges by rank. CLLM4REC.md §1: soft user/item tokens are split off by the CLLM4Rec layer
// before text reaches this class.
import fs from 'node:fs'
import path from 'node:path'

export const END_OF_TEXT = '<|endoftext|>'
// GPT-2's pre-tokenizer: contractions, letter runs, number runs, other runs, whitespace.
export const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu

/** GPT-2's reversible map from the 256 byte values to printable unicode characters. */
export function bytesToUnicode(): string[] {
  const bs: number[] = []
  for (let b = 33; b <= 126; b++) bs.push(b)
  for (let b = 161; b <= 172; b++) bs.push(b)
  for (let b = 174; b <= 255; b++) bs.push(b)
  const cs = [...bs]
  let n = 0
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b)
      cs.push(256 + n)
      n++
    }
  }
  const out = new Array<string>(256)
  bs.forEach((b, i) => (out[b] = String.fromCodePoint(cs[i])))
  return out
}

/** The 256 byte symbols in GPT-2's vocabulary order (ids 0..255 of its vocab.json). */
export function byteSymbolsInVocabOrder(): string[] {
  const map = bytesToUnicode()
  const order: number[] = []
  for (let b = 33; b <= 126; b++) order.push(b)
  for (let b = 161; b <= 172; b++) order.push(b)
  for (let b = 174; b <= 255; b++) order.push(b)
  for (let b = 0; b < 256; b++) if (!order.includes(b)) order.push(b)
  return order.map((b) => map[b])
}

const BYTE_ENCODER = bytesToUnicode()
const BYTE_DECODER = new Map(BYTE_ENCODER.map((c, b) => [c, b]))
const UTF8 = new TextEncoder()

/** Split text into GPT-2 pre-tokens, each mapped to its byte-level unicode string. */
export function preTokenize(text: string): string[] {
  const out: string[] = []
  for (const m of text.matchAll(GPT2_PATTERN)) {
    let s = ''
    for (const b of UTF8.encode(m[0])) s += BYTE_ENCODER[b]
    out.push(s)
  }
  return out
}

export class Gpt2Tokenizer {
  readonly vocab: Map<string, number>
  readonly idToToken: string[]
  readonly ranks: Map<string, number> // "a b" -> merge rank
  readonly eosId: number | undefined
  private readonly cache = new Map<string, string[]>()

  constructor(vocab: Map<string, number>, merges: [string, string][], source = 'tokenizer') {
    this.vocab = vocab
    this.idToToken = []
    for (const [tok, id] of vocab) {
      if (!Number.isInteger(id) || id < 0)
        throw new Error(`${source}: token ${JSON.stringify(tok)} has bad id ${id}`)
      if (this.idToToken[id] !== undefined) throw new Error(`${source}: id ${id} is used twice`)
      this.idToToken[id] = tok
    }
    for (let i = 0; i < this.idToToken.length; i++) {
      if (this.idToToken[i] === undefined)
        throw new Error(`${source}: ids are not dense (no token with id ${i})`)
    }
    for (const c of BYTE_ENCODER) {
      if (!vocab.has(c)) throw new Error(`${source}: byte symbol ${JSON.stringify(c)} missing from vocab`)
    }
    this.ranks = new Map()
    merges.forEach(([a, b], i) => {
      if (!vocab.has(a + b))
        throw new Error(`${source}: merge ${i + 1} "${a} ${b}" produces a token not in vocab`)
      this.ranks.set(a + ' ' + b, i)
    })
    this.eosId = vocab.get(END_OF_TEXT)
  }

  get vocabSize(): number {
    return this.idToToken.length
  }

  /** Load vocab.json + merges.txt from an HF GPT-2 folder. */
  static fromDir(dir: string): Gpt2Tokenizer {
    const vocabFile = path.join(dir, 'vocab.json')
    const mergesFile = path.join(dir, 'merges.txt')
    return Gpt2Tokenizer.fromText(readText(vocabFile), readText(mergesFile), vocabFile, mergesFile)
  }

  static fromText(vocabJson: string, mergesTxt: string, vocabName = 'vocab.json', mergesName = 'merges.txt') {
    let raw: unknown
    try {
      raw = JSON.parse(vocabJson)
    } catch (e) {
      throw new Error(`${vocabName}: invalid JSON (${(e as Error).message})`)
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw new Error(`${vocabName}: expected an object`)
    const vocab = new Map<string, number>(Object.entries(raw as Record<string, number>))
    const merges: [string, string][] = []
    mergesTxt.split('\n').forEach((line, i) => {
      const l = line.replace(/\r$/, '')
      if (l === '' || (i === 0 && l.startsWith('#version'))) return
      const parts = l.split(' ')
      if (parts.length !== 2)
        throw new Error(`${mergesName}: line ${i + 1}: expected "a b", got ${JSON.stringify(l)}`)
      merges.push([parts[0], parts[1]])
    })
    return new Gpt2Tokenizer(vocab, merges, vocabName)
  }

  /** BPE of one pre-token (byte-level string). `trace` receives every merge applied, as "a b". */
  bpe(word: string, trace?: (pair: string) => void): string[] {
    const cached = trace ? undefined : this.cache.get(word)
    if (cached) return cached
    let parts = Array.from(word)
    while (parts.length > 1) {
      let best = -1
      let bestRank = Infinity
      for (let i = 0; i < parts.length - 1; i++) {
        const r = this.ranks.get(parts[i] + ' ' + parts[i + 1])
        if (r !== undefined && r < bestRank) {
          bestRank = r
          best = i
        }
      }
      if (best < 0) break
      const a = parts[best]
      const b = parts[best + 1]
      trace?.(a + ' ' + b)
      const next: string[] = []
      for (let i = 0; i < parts.length; i++) {
        if (i < parts.length - 1 && parts[i] === a && parts[i + 1] === b) {
          next.push(a + b)
          i++
        } else next.push(parts[i])
      }
      parts = next
    }
    if (this.cache.size > 100_000) this.cache.clear()
    this.cache.set(word, parts)
    return parts
  }

  /** Encode text. `<|endoftext|>` in the text becomes the special token when the vocab has it. */
  encode(text: string): number[] {
    const ids: number[] = []
    const segments = this.eosId === undefined ? [text] : text.split(END_OF_TEXT)
    segments.forEach((seg, si) => {
      if (si > 0) ids.push(this.eosId as number)
      for (const word of preTokenize(seg)) {
        for (const tok of this.bpe(word)) ids.push(this.vocab.get(tok) as number)
      }
    })
    return ids
  }

  private tokenOf(id: number): string {
    const t = this.idToToken[id]
    if (t === undefined)
      throw new Error(`token id ${id} is outside the vocabulary (0..${this.vocabSize - 1})`)
    return t
  }

  private bytesOf(id: number): number[] {
    const t = this.tokenOf(id)
    if (t === END_OF_TEXT) return Array.from(UTF8.encode(t))
    return Array.from(t, (c) => BYTE_DECODER.get(c) ?? 0x3f)
  }

  decode(ids: number[]): string {
    const bytes: number[] = []
    for (const id of ids) for (const b of this.bytesOf(id)) bytes.push(b)
    return new TextDecoder('utf-8').decode(new Uint8Array(bytes))
  }

  /** Each id's own text, for display (a token holding part of a UTF-8 character shows U+FFFD). */
  pieces(ids: number[]): string[] {
    return ids.map((id) => new TextDecoder('utf-8').decode(new Uint8Array(this.bytesOf(id))))
  }
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch (e) {
    throw new Error(`${file}: cannot read tokenizer file (${(e as Error).message})`)
  }
}
