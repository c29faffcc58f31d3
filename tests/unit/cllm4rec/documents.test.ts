import { describe, expect, it } from 'vitest'
import {
  collaborativeDoc,
  contentDoc,
  packBatch,
  packPrompts,
  recommendationPrompt,
  renderDocument,
  templateTokenCounts,
} from '../../../main/engine/cllm4rec/documents'
import { DEFAULT_PROMPTS, OFFICIAL_PROMPTS, validateTemplate } from '../../../main/engine/cllm4rec/prompts'
import { ExtendedTokenizer, SoftVocab } from '../../../main/engine/cllm4rec/vocab'
import { VOCAB, WordTokenizer } from './fixtures'

// N = 22 words, I = 4 users, J = 6 items: <user_i> = 22 + i, <item_j> = 26 + j.
const vocab = new SoftVocab(VOCAB, 4, 6)
const tok = new ExtendedTokenizer(new WordTokenizer(), vocab)

describe('vocabulary extension', () => {
  it('maps soft tokens to N+i and N+I+j atomically and BPE-encodes the rest', () => {
    expect(tok.encode('<user_2> has interacted with <item_5> <item_0>')).toEqual([24, 0, 1, 2, 31, 26])
    expect(vocab.kind(25)).toBe('user')
    expect(vocab.kind(26)).toBe('item')
    expect(vocab.index(31)).toBe(5)
    expect(() => tok.encode('<item_6>')).toThrow(/out of range/)
    expect(tok.pieces([24, 0, 31])).toEqual(['<user_2>', ' has', '<item_5>'])
  })
})

describe('documents', () => {
  it('collaborative: prompt + item tokens, loss on every main token including the first', () => {
    const d = collaborativeDoc(tok, DEFAULT_PROMPTS, 1, [3, 0, 4], { maxLength: 1024 })
    expect(d.ids).toEqual([23, 0, 1, 2, 29, 26, 30])
    expect(d.promptLength).toBe(4)
    const b = packBatch([d], true)
    expect(b.T).toBe(6)
    expect(Array.from(b.inputs)).toEqual([23, 0, 1, 2, 29, 26])
    // hidden at position 3 (" with") predicts <item_3>; 4 predicts <item_0>; 5 predicts <item_4>.
    expect(Array.from(b.positions)).toEqual([3, 4, 5])
    expect(Array.from(b.targets)).toEqual([29, 26, 30])
    const official = packBatch([d], false)
    expect(Array.from(official.positions)).toEqual([4, 5])
  })

  it('review: soft/hard/main roles and the loss mask of the UI preview', () => {
    const r = renderDocument(tok, DEFAULT_PROMPTS, 'review', {
      user: 0,
      item: 0,
      text: 'great red lipstick.',
    })
    expect(r.ids).toEqual([22, 3, 4, 5, 6, 7, 26, 8, 16, 17, 18, 21])
    expect(r.roles).toEqual([
      'soft',
      'hard',
      'hard',
      'hard',
      'hard',
      'hard',
      'soft',
      'hard',
      'main',
      'main',
      'main',
      'main',
    ])
    expect(r.lossMask).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      true,
      true,
      true,
      true,
    ])
    expect(r.pieces.slice(6, 9)).toEqual(['<item_0>', ':', ' great'])
  })

  it('right-pads batches and lists positions per row', () => {
    const a = contentDoc(tok, DEFAULT_PROMPTS, 'itemText', { item: 4 }, 'soft brush', { maxLength: 64 })
    const b = collaborativeDoc(tok, DEFAULT_PROMPTS, 0, [1], { maxLength: 64 })
    expect(a.ids).toEqual([30, 9, 10, 11, 8, 19, 20])
    const p = packBatch([a, b], true)
    expect(p.T).toBe(6)
    expect(Array.from(p.inputs.slice(6))).toEqual([22, 0, 1, 2, 0, 0])
    expect(Array.from(p.positions)).toEqual([4, 5, 6 + 3])
    expect(Array.from(p.targets)).toEqual([19, 20, 27])
  })

  it('pads to a shape bucket (never past maxT) with the same targets', () => {
    const a = contentDoc(tok, DEFAULT_PROMPTS, 'itemText', { item: 4 }, 'soft brush', { maxLength: 64 })
    const b = collaborativeDoc(tok, DEFAULT_PROMPTS, 0, [1], { maxLength: 64 })
    const p = packBatch([a, b], true, { bucket: 16, maxT: 64 })
    expect(p.T).toBe(16)
    expect(Array.from(p.inputs.slice(16, 22))).toEqual([22, 0, 1, 2, 0, 0])
    expect(Array.from(p.positions)).toEqual([4, 5, 16 + 3])
    expect(Array.from(p.targets)).toEqual([19, 20, 27])
    expect(packBatch([a, b], true, { bucket: 16, maxT: 10 }).T).toBe(10)
    expect(packBatch([a, b], true, { bucket: 1, maxT: 64 }).T).toBe(6)
    const q = packPrompts([a.ids, b.ids.slice(0, 3)], { bucket: 16, maxT: 64 })
    expect([q.T, ...q.last]).toEqual([16, 6, 16 + 2])
  })

  it('caps length by cutting the main text and flags the document', () => {
    const d = collaborativeDoc(tok, DEFAULT_PROMPTS, 0, [0, 1, 2, 3, 4], { maxLength: 6 })
    expect(d.ids).toEqual([22, 0, 1, 2, 26, 27])
    expect(d.truncated).toBe(true)
    const c = contentDoc(tok, DEFAULT_PROMPTS, 'review', { user: 0, item: 0 }, 'great red lipstick.', {
      maxLength: 64,
      mainCap: 2,
    })
    expect(c.ids.slice(c.promptLength)).toEqual([16, 17])
    expect(() => collaborativeDoc(tok, DEFAULT_PROMPTS, 0, [1], { maxLength: 4 })).toThrow(/no room/)
  })

  it('recommendation prompt drops the first-listed items when too long', () => {
    const full = recommendationPrompt(tok, DEFAULT_PROMPTS, 0, [0, 1, 2], 64)
    expect(full.ids).toEqual([22, 0, 1, 2, 26, 27, 28, 12, 4, 13, 14, 15, 2])
    const cut = recommendationPrompt(tok, DEFAULT_PROMPTS, 0, [0, 1, 2], 12)
    expect(cut.ids).toEqual([22, 0, 1, 2, 27, 28, 12, 4, 13, 14, 15, 2])
    expect(cut.truncated).toBe(true)
  })
})

describe('prompt templates', () => {
  it('rejects missing, duplicated and unknown placeholders', () => {
    expect(() => validateTemplate('review', '{user} reviews:')).toThrow(/\{item\} is required/)
    expect(() => validateTemplate('collaborative', '{user} bought {item}')).toThrow(
      /unknown placeholder \{item\}/,
    )
    expect(() => validateTemplate('recommendation', '{user} {items} and {items}')).toThrow(
      /\{items\} must appear exactly once/,
    )
    // The official code names the user twice in the RecLLM prompt.
    expect(() => validateTemplate('recommendation', OFFICIAL_PROMPTS.recommendation)).not.toThrow()
    expect(() => validateTemplate('userText', '<user_1> is')).toThrow(/placeholder|literal/)
    expect(() => validateTemplate('userText', '{user} is {')).toThrow(/brace/)
    expect(() => validateTemplate('recommendation', DEFAULT_PROMPTS.recommendation)).not.toThrow()
  })

  it("reports each template's token count", () => {
    expect(templateTokenCounts(tok, DEFAULT_PROMPTS)).toEqual({
      collaborative: 4,
      review: 8,
      itemText: 5,
      userText: 5,
      recommendation: 11,
    })
  })
})
