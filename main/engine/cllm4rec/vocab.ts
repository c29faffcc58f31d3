// Vocabulary extension (CLLM4REC.md §1): with base vocabulary N, I users and J items, `<user_i>` is the
// atomic token N+i and `<item_j>` is N+I+j. The tokenizer wrapper splits text on these patterns first
// and BPE-encodes only the text between them.

/** What the base GPT-2 tokenizer must offer. */
export interface TextTokenizer {
  encode(text: string): number[]
  decode(ids: number[]): string
  pieces(ids: number[]): string[]
}

export type TokenKind = 'word' | 'user' | 'item'

export const SOFT_TOKEN_PATTERN = /<(user|item)_(\d+)>/g

export class SoftVocab {
  constructor(
    /** Base vocabulary size N (the backbone's vocab_size). */
    readonly base: number,
    readonly nUsers: number,
    readonly nItems: number,
  ) {
    for (const [k, v] of Object.entries({ base, nUsers, nItems })) {
      if (!Number.isInteger(v) || v <= 0)
        throw new Error(`SoftVocab: ${k} must be a positive integer, got ${v}`)
    }
  }

  get size(): number {
    return this.base + this.nUsers + this.nItems
  }

  userToken(u: number): number {
    if (!Number.isInteger(u) || u < 0 || u >= this.nUsers)
      throw new Error(`<user_${u}> out of range 0..${this.nUsers - 1}`)
    return this.base + u
  }

  itemToken(j: number): number {
    if (!Number.isInteger(j) || j < 0 || j >= this.nItems)
      throw new Error(`<item_${j}> out of range 0..${this.nItems - 1}`)
    return this.base + this.nUsers + j
  }

  kind(id: number): TokenKind {
    if (id < this.base) return 'word'
    if (id < this.base + this.nUsers) return 'user'
    if (id < this.size) return 'item'
    throw new Error(`token id ${id} is outside the extended vocabulary (size ${this.size})`)
  }

  /** Index within its own table (word id, user index or item index). */
  index(id: number): number {
    const k = this.kind(id)
    return k === 'word' ? id : k === 'user' ? id - this.base : id - this.base - this.nUsers
  }
}

/**
 * Base tokenizer + atomic soft tokens. A hard segment before a soft token is right-stripped (as the
 * official tokenizer does), so no lone ' ' token precedes `<user_i>` / `<item_j>`; whitespace-only
 * segments vanish. Every document kind is encoded through this one rule.
 */
export class ExtendedTokenizer {
  constructor(
    readonly text: TextTokenizer,
    readonly vocab: SoftVocab,
  ) {}

  encode(s: string): number[] {
    const ids: number[] = []
    let last = 0
    for (const m of s.matchAll(SOFT_TOKEN_PATTERN)) {
      this.encodeText(s.slice(last, m.index).trimEnd(), ids)
      const n = Number(m[2])
      ids.push(m[1] === 'user' ? this.vocab.userToken(n) : this.vocab.itemToken(n))
      last = (m.index ?? 0) + m[0].length
    }
    this.encodeText(s.slice(last), ids)
    return ids
  }

  private encodeText(seg: string, out: number[]): void {
    if (seg.trim() === '') return
    for (const id of this.text.encode(seg)) {
      if (id >= this.vocab.base)
        throw new Error(`tokenizer produced id ${id} >= base vocabulary ${this.vocab.base}`)
      out.push(id)
    }
  }

  pieces(ids: number[]): string[] {
    return ids.map((id) => {
      const k = this.vocab.kind(id)
      if (k === 'word') return this.text.pieces([id])[0]
      return `<${k}_${this.vocab.index(id)}>`
    })
  }

  decode(ids: number[]): string {
    let out = ''
    let words: number[] = []
    const flush = () => {
      if (words.length) out += this.text.decode(words)
      words = []
    }
    for (const id of ids) {
      if (this.vocab.kind(id) === 'word') words.push(id)
      else {
        flush()
        out += (out && !out.endsWith(' ') ? ' ' : '') + this.pieces([id])[0]
      }
    }
    flush()
    return out
  }
}
