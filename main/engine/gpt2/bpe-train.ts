// Tokenizers for the built-in scratch backbone ("LLM-Scratch"), in GPT-2's own file format so loadGpt2
// reads them unchanged: (1) learn a byte-level BPE with GPT-2's algorithm (no GPT-2 files may ship with
// the app), or (2) restrict a user-supplied GPT-2 tokenizer to the merges the corpus actually uses.
import { byteSymbolsInVocabOrder, END_OF_TEXT, Gpt2Tokenizer, preTokenize } from './tokenizer'

export interface BpeFiles {
  vocab: Map<string, number>
  merges: [string, string][]
  /** For a restricted GPT-2 tokenizer: originalIds[newId] = GPT-2 id. */
  originalIds?: number[]
}

export function vocabJson(f: BpeFiles): string {
  return JSON.stringify(Object.fromEntries(f.vocab))
}

export function mergesTxt(f: BpeFiles): string {
  return '#version: 0.2\n' + f.merges.map(([a, b]) => `${a} ${b}\n`).join('')
}

function countWords(texts: string[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const t of texts) for (const w of preTokenize(t)) counts.set(w, (counts.get(w) ?? 0) + 1)
  return counts
}

/**
 * Learn byte-level BPE: start from the 256 byte symbols and repeatedly merge the most frequent adjacent
 * pair (ties: lexicographically smallest, so the result is deterministic) until vocabSize tokens
 * (256 bytes + merges + <|endoftext|>) or no pair occurs twice.
 */
export function learnBpe(texts: string[], vocabSize: number, signal?: AbortSignal): BpeFiles {
  if (!Number.isInteger(vocabSize) || vocabSize < 257)
    throw new Error(`vocabSize must be an integer >= 257, got ${vocabSize}`)
  const wordCounts = countWords(texts)
  const words = [...wordCounts.keys()].map((w) => Array.from(w))
  const freq = [...wordCounts.values()]
  const pairCount = new Map<string, number>()
  const pairWords = new Map<string, Set<number>>()
  const addWord = (i: number, sign: number) => {
    const w = words[i]
    for (let j = 0; j < w.length - 1; j++) {
      const k = w[j] + ' ' + w[j + 1]
      pairCount.set(k, (pairCount.get(k) ?? 0) + sign * freq[i])
      if (sign > 0) {
        let s = pairWords.get(k)
        if (!s) pairWords.set(k, (s = new Set()))
        s.add(i)
      }
    }
  }
  words.forEach((_, i) => addWord(i, 1))
  const vocab = new Map<string, number>()
  for (const c of byteSymbolsInVocabOrder()) vocab.set(c, vocab.size)
  const merges: [string, string][] = []
  while (vocab.size < vocabSize - 1) {
    if (signal?.aborted) throw new Error('BPE training aborted')
    let best = ''
    let bestCount = 1
    for (const [k, c] of pairCount)
      if (c > bestCount || (c === bestCount && c > 1 && k < best)) [best, bestCount] = [k, c]
    if (bestCount < 2) break
    const [a, b] = best.split(' ')
    merges.push([a, b])
    vocab.set(a + b, vocab.size)
    for (const i of pairWords.get(best) ?? []) {
      addWord(i, -1)
      const w = words[i]
      const next: string[] = []
      for (let j = 0; j < w.length; j++) {
        if (j < w.length - 1 && w[j] === a && w[j + 1] === b) {
          next.push(a + b)
          j++
        } else next.push(w[j])
      }
      words[i] = next
      addWord(i, 1)
    }
    pairCount.delete(best)
    pairWords.delete(best)
  }
  vocab.set(END_OF_TEXT, vocab.size)
  return { vocab, merges }
}

/**
 * Keep the 256 byte symbols plus exactly the merges GPT-2's BPE applies to this corpus (in their
 * original rank order). BPE picks the lowest-ranked applicable merge, and every merge it picked on the
 * corpus is kept, so corpus text tokenizes exactly as GPT-2 would; unseen text still encodes (bytes).
 */
export function restrictGpt2Tokenizer(gpt2: Gpt2Tokenizer, texts: string[]): BpeFiles {
  const used = new Set<string>()
  for (const w of countWords(texts).keys()) gpt2.bpe(w, (pair) => used.add(pair))
  const kept = [...used].sort((x, y) => (gpt2.ranks.get(x) as number) - (gpt2.ranks.get(y) as number))
  const vocab = new Map<string, number>()
  const originalIds: number[] = []
  const add = (tok: string) => {
    if (vocab.has(tok)) return
    const id = gpt2.vocab.get(tok)
    if (id === undefined) throw new Error(`GPT-2 tokenizer has no token ${JSON.stringify(tok)}`)
    vocab.set(tok, vocab.size)
    originalIds.push(id)
  }
  for (const c of byteSymbolsInVocabOrder()) add(c)
  const merges = kept.map((k) => k.split(' ') as [string, string])
  for (const [a, b] of merges) add(a + b)
  add(END_OF_TEXT)
  return { vocab, merges, originalIds }
}
