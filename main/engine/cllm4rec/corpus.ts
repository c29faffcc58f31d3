// Builds the three corpora of CLLM4Rec from a RecDataset (CLLM4REC.md §2, §6): content documents
// (tokenised once), collaborative documents (items reshuffled every pass), and masked-prompting
// examples for RecLLM (hide p_m of each user's training items per pass, at least one).
import { trainingReviews } from '../../data/reviews'
import type { RecDataset } from '../../data/types'
import type { Rng } from '../train/rng'
import type { Cllm4recConfig } from './config'
import { collaborativeDoc, contentDoc, recommendationPrompt, type Doc } from './documents'
import { hardSegments, type PromptTemplates } from './prompts'
import type { ExtendedTokenizer } from './vocab'

export interface DocSet {
  docs: Doc[]
  truncated: number
}

/** Every content document the config enables: reviews, item texts, user texts. */
export function buildContentDocs(
  data: RecDataset,
  tok: ExtendedTokenizer,
  c: Cllm4recConfig,
  maxLength: number,
): DocSet {
  const caps = { maxLength, mainCap: c.contentMainCap }
  const docs: Doc[] = []
  if (c.useReviews) {
    for (const r of trainingReviews(data)) {
      if (r.text.trim())
        docs.push(contentDoc(tok, c.prompts, 'review', { user: r.user, item: r.item }, r.text, caps))
    }
  }
  if (c.useItemTexts) {
    data.itemTexts.forEach((t, j) => {
      if (t && t.trim()) docs.push(contentDoc(tok, c.prompts, 'itemText', { item: j }, t, caps))
    })
  }
  if (c.useUserTexts) {
    data.userTexts.forEach((t, u) => {
      if (t && t.trim()) docs.push(contentDoc(tok, c.prompts, 'userText', { user: u }, t, caps))
    })
  }
  return { docs, truncated: docs.filter((d) => d.truncated).length }
}

/** One pass of collaborative documents (users with >= 1 training item), in the given user order. */
export function buildCollabDocs(
  data: RecDataset,
  tok: ExtendedTokenizer,
  c: Cllm4recConfig,
  rng: Rng,
  maxLength: number,
): DocSet {
  const docs: Doc[] = []
  for (let u = 0; u < data.train.length; u++) {
    if (data.train[u].length === 0) continue
    const items = c.reorderItems ? rng.shuffle([...data.train[u]]) : [...data.train[u]]
    docs.push(collaborativeDoc(tok, c.prompts, u, items, { maxLength }))
  }
  return { docs, truncated: docs.filter((d) => d.truncated).length }
}

export interface RecExample {
  user: number
  prompt: number[]
  /** Items of the prompt (for the mutual term). */
  promptItems: number[]
  targets: number[]
}

/** Items hidden per pass in masked prompting: max(1, int(p_m·n)), as the official code computes it. */
export function maskedCount(n: number, maskFraction: number): number {
  return Math.max(1, Math.floor(maskFraction * n))
}

/** Items hidden this pass: maskedCount, or a Binomial(n, p_m) draw (`binomial`, may be 0). */
function hiddenThisPass(n: number, c: Cllm4recConfig, rng: Rng): number {
  // Runs stored before this option have no maskCount: they masked the fixed way.
  if (c.maskCount !== 'binomial') return maskedCount(n, c.maskFraction)
  let k = 0
  for (let i = 0; i < n; i++) if (rng.next() < c.maskFraction) k++
  return k
}

/**
 * Masked prompting: per user and pass, shuffle the training items, hide hiddenThisPass(n) of them, and
 * let the rest form the prompt. Paper (`masked`): the hidden items are the target, at least one item stays
 * visible, users with one item are skipped. Official (`all`): the same masked prompt, but the target
 * is every training item (a one-item user gets an empty prompt, as in the authors' code).
 */
export function buildRecExamples(
  data: RecDataset,
  tok: ExtendedTokenizer,
  c: Cllm4recConfig,
  rng: Rng,
  maxLength: number,
): RecExample[] {
  const out: RecExample[] = []
  const all = c.finetuneTarget === 'all'
  for (let u = 0; u < data.train.length; u++) {
    const items = data.train[u]
    if (items.length < (all ? 1 : 2)) continue
    const shuffled = rng.shuffle([...items])
    const hidden = hiddenThisPass(items.length, c, rng)
    const k = all ? hidden : Math.min(items.length - 1, Math.max(1, hidden))
    const visible = shuffled.slice(k)
    const p = recommendationPrompt(tok, c.prompts, u, visible, maxLength)
    out.push({ user: u, prompt: p.ids, promptItems: visible, targets: all ? items : shuffled.slice(0, k) })
  }
  return out
}

/**
 * Texts for training the built-in scratch backbone: the dataset's words, plus the hard-prompt phrases
 * (placeholders removed, repeated) so the learned BPE has merges for them and prompts stay short.
 */
export function backboneTexts(data: RecDataset, prompts?: PromptTemplates): string[] {
  const texts: string[] = []
  let promptTexts = 0
  if (prompts) {
    // Spaced exactly as documents encode them, so the learned BPE has the pieces the documents use.
    const phrases = Object.values(prompts).flatMap((t: string) => hardSegments(t))
    for (let r = 0; r < 50; r++) texts.push(...phrases)
    promptTexts = texts.length
  }
  for (const r of trainingReviews(data)) if (r.text.trim()) texts.push(r.text)
  for (const t of data.itemTexts) if (t && t.trim()) texts.push(t)
  for (const t of data.userTexts) if (t && t.trim()) texts.push(t)
  if (texts.length === promptTexts)
    throw new Error(`dataset "${data.name}" has no text to train a scratch backbone on`)
  return texts
}

/** Unique users and items of a batch of documents (rows of the per-doc mutual term). */
export function batchRows(
  docs: { users: number[]; items: number[] }[],
  unique: boolean,
): { users: number[]; items: number[] } {
  const users: number[] = []
  const items: number[] = []
  for (const d of docs) {
    users.push(...d.users)
    items.push(...d.items)
  }
  if (!unique) return { users, items }
  return {
    users: [...new Set(users)].sort((a, b) => a - b),
    items: [...new Set(items)].sort((a, b) => a - b),
  }
}

/**
 * How many of an epoch's batches each user and item row sits in: 'per-epoch' scaling weighs a row's
 * mutual term and prior 1/that in each of them, so the row counts once an epoch.
 */
export class EpochRowCounts {
  private readonly users = new Map<number, number>()
  private readonly items = new Map<number, number>()

  constructor(batches: { users: number[]; items: number[] }[][]) {
    for (const b of batches) {
      const rows = batchRows(b, true)
      for (const u of rows.users) this.users.set(u, (this.users.get(u) ?? 0) + 1)
      for (const i of rows.items) this.items.set(i, (this.items.get(i) ?? 0) + 1)
    }
  }

  /** 1/k for each of a batch's unique rows (a row outside the epoch's batches is an error). */
  weights(rows: { users: number[]; items: number[] }): { users: Float32Array; items: Float32Array } {
    const w = (counts: Map<number, number>, r: number, what: string) => {
      const k = counts.get(r)
      if (!k) throw new Error(`${what} ${r} is in no batch of this epoch`)
      return 1 / k
    }
    return {
      users: Float32Array.from(rows.users, (u) => w(this.users, u, 'user')),
      items: Float32Array.from(rows.items, (i) => w(this.items, i, 'item')),
    }
  }
}
