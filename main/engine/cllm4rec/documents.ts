// Soft+hard prompt documents (CLLM4REC.md §2): prompt ids + homogeneous main text, the loss mask over the
// main text (first main token included unless the official preset skips it), length caps with a count
// of cut documents, and right-padded batches that list exactly the positions whose hidden state predicts
// a main token (the heads run only there).
import { fillTemplate, type PromptKind, type PromptTemplates } from './prompts'
import type { ExtendedTokenizer } from './vocab'

export interface Doc {
  /** Prompt ids followed by main-text ids. */
  ids: number[]
  promptLength: number
  /** Users/items appearing in the document (for the per-batch mutual term). */
  users: number[]
  items: number[]
  truncated: boolean
}

export interface LengthCaps {
  /** Total tokens (backbone context). */
  maxLength: number
  /** Optional cap on the main text of content documents. */
  mainCap?: number | null
}

function makeDoc(prompt: number[], main: number[], caps: LengthCaps, users: number[], items: number[]): Doc {
  const room = caps.maxLength - prompt.length
  if (room < 1)
    throw new Error(`prompt of ${prompt.length} tokens leaves no room for main text (max ${caps.maxLength})`)
  let limit = room
  if (caps.mainCap != null) limit = Math.min(limit, caps.mainCap)
  const truncated = main.length > limit
  const kept = truncated ? main.slice(0, limit) : main
  return { ids: [...prompt, ...kept], promptLength: prompt.length, users, items, truncated }
}

/** `{user} has interacted with` + the given item order (the caller shuffles per pass). */
export function collaborativeDoc(
  tok: ExtendedTokenizer,
  templates: PromptTemplates,
  user: number,
  items: number[],
  caps: LengthCaps,
): Doc {
  const prompt = tok.encode(fillTemplate(templates.collaborative, { user }))
  const main = items.map((j) => tok.vocab.itemToken(j))
  return makeDoc(prompt, main, { maxLength: caps.maxLength }, [user], items)
}

/** Review, item-text or user-text document; the main text gets a leading space (GPT-2 word start). */
export function contentDoc(
  tok: ExtendedTokenizer,
  templates: PromptTemplates,
  kind: 'review' | 'itemText' | 'userText',
  values: { user?: number; item?: number },
  text: string,
  caps: LengthCaps,
): Doc {
  const prompt = tok.encode(fillTemplate(templates[kind], values))
  const main = tok.text.encode(' ' + text.trim())
  const users = values.user !== undefined ? [values.user] : []
  const items = values.item !== undefined ? [values.item] : []
  return makeDoc(prompt, main, caps, users, items)
}

/** RecLLM prompt with the given (already ordered) history; drops the oldest-listed items when too long. */
export function recommendationPrompt(
  tok: ExtendedTokenizer,
  templates: PromptTemplates,
  user: number,
  items: number[],
  maxLength: number,
): { ids: number[]; truncated: boolean } {
  const ids = tok.encode(fillTemplate(templates.recommendation, { user, items }))
  if (ids.length <= maxLength) return { ids, truncated: false }
  const over = ids.length - maxLength
  const kept = items.slice(over)
  return { ids: tok.encode(fillTemplate(templates.recommendation, { user, items: kept })), truncated: true }
}

/** Index (into ids) of every token the loss predicts. */
export function targetIndices(doc: Doc, predictFirstMainToken: boolean): number[] {
  const start = doc.promptLength + (predictFirstMainToken ? 0 : 1)
  const out: number[] = []
  for (let t = Math.max(start, 1); t < doc.ids.length; t++) out.push(t)
  return out
}

export interface PackedBatch {
  /** Input ids [B, T] right-padded with 0 (causal attention never looks right, so no mask). */
  inputs: Int32Array
  B: number
  T: number
  /** Flat positions b*T + t whose hidden state predicts a target. */
  positions: Int32Array
  /** Target token ids, aligned with positions. */
  targets: Int32Array
}

/** Inputs are ids[0..len-1); the hidden state at t-1 predicts ids[t]. */
/** Length padding to a few distinct shapes: `bucket` rounds T up (never beyond maxT); 1 keeps T exact. */
export interface ShapeBucket {
  bucket: number
  maxT: number
}

function bucketed(T: number, shape?: ShapeBucket): number {
  if (!shape || shape.bucket <= 1) return T
  return Math.max(T, Math.min(shape.maxT, Math.ceil(T / shape.bucket) * shape.bucket))
}

/**
 * Right-padded batch. Padding never changes a loss (causal attention, targets by position); `shape`
 * pads further so a GPU's buffer pool, which matches sizes exactly, sees few distinct shapes.
 */
export function packBatch(docs: Doc[], predictFirstMainToken: boolean, shape?: ShapeBucket): PackedBatch {
  const B = docs.length
  const T = bucketed(Math.max(1, ...docs.map((d) => d.ids.length - 1)), shape)
  const inputs = new Int32Array(B * T)
  const positions: number[] = []
  const targets: number[] = []
  docs.forEach((d, b) => {
    for (let t = 0; t < d.ids.length - 1; t++) inputs[b * T + t] = d.ids[t]
    for (const t of targetIndices(d, predictFirstMainToken)) {
      positions.push(b * T + t - 1)
      targets.push(d.ids[t])
    }
  })
  return { inputs, B, T, positions: Int32Array.from(positions), targets: Int32Array.from(targets) }
}

/** Prompts packed for RecLLM: the last prompt position of each row gives the prediction. */
export function packPrompts(
  prompts: number[][],
  shape?: ShapeBucket,
): {
  inputs: Int32Array
  B: number
  T: number
  last: Int32Array
} {
  const B = prompts.length
  const T = bucketed(Math.max(1, ...prompts.map((p) => p.length)), shape)
  const inputs = new Int32Array(B * T)
  const last = new Int32Array(B)
  prompts.forEach((p, b) => {
    inputs.set(p, b * T)
    last[b] = b * T + p.length - 1
  })
  return { inputs, B, T, last }
}

export type TokenRole = 'soft' | 'hard' | 'main'

export interface RenderedDocument {
  ids: number[]
  roles: TokenRole[]
  pieces: string[]
  /** True where the token is a loss target. */
  lossMask: boolean[]
  promptTokens: number
  truncated: boolean
}

/** A document as the UI previews it: token ids, soft/hard/main role, piece text and loss mask. */
export function renderDocument(
  tok: ExtendedTokenizer,
  templates: PromptTemplates,
  kind: PromptKind,
  values: { user: number; item?: number; items?: number[]; text?: string },
  opts: { maxLength?: number; mainCap?: number | null; predictFirstMainToken?: boolean } = {},
): RenderedDocument {
  const caps = { maxLength: opts.maxLength ?? 1024, mainCap: opts.mainCap }
  let doc: Doc
  if (kind === 'collaborative') doc = collaborativeDoc(tok, templates, values.user, values.items ?? [], caps)
  else if (kind === 'recommendation') {
    const p = recommendationPrompt(tok, templates, values.user, values.items ?? [], caps.maxLength)
    doc = {
      ids: p.ids,
      promptLength: p.ids.length,
      users: [values.user],
      items: values.items ?? [],
      truncated: p.truncated,
    }
  } else
    doc = contentDoc(tok, templates, kind, { user: values.user, item: values.item }, values.text ?? '', caps)
  const targets = new Set(targetIndices(doc, opts.predictFirstMainToken ?? true))
  return {
    ids: doc.ids,
    roles: doc.ids.map((id, t) =>
      t >= doc.promptLength ? 'main' : tok.vocab.kind(id) === 'word' ? 'hard' : 'soft',
    ),
    pieces: tok.pieces(doc.ids),
    lossMask: doc.ids.map((_, t) => targets.has(t)),
    promptTokens: doc.promptLength,
    truncated: doc.truncated,
  }
}

/** Token count of every template's prompt part (soft tokens count 1; {items} shown with one item). */
export function templateTokenCounts(
  tok: ExtendedTokenizer,
  templates: PromptTemplates,
): Record<PromptKind, number> {
  const v = { user: 0, item: 0, items: [0] }
  const out = {} as Record<PromptKind, number>
  for (const k of Object.keys(templates) as PromptKind[])
    out[k] = tok.encode(fillTemplate(templates[k], v)).length
  return out
}
