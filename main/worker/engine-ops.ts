// Engine work the API asks for outside training: inspecting a trained run (recommendations from both
// LLMs, neighbours, PCA of the embeddings, generated reviews), token previews of prompt templates, and
// the baselines. Runs in the engine worker (engine-worker.ts) so main's event loop never does tensor work.
import type { Sampling } from '../engine/gpt2/sampling'
import * as tf from '@tensorflow/tfjs'
import type * as A from '../../preload/api'
import type { RecDataset } from '../data/types'
import { trainingReviews } from '../data/reviews'
import { initBackend } from '../engine/backend'
import { prepareBackbone } from '../engine/cllm4rec/backbone'
import type { Cllm4recConfig } from '../engine/cllm4rec/config'
import { renderDocument } from '../engine/cllm4rec/documents'
import { Cllm4recModel } from '../engine/cllm4rec/model'
import { hardSegments, validateTemplate, type PromptKind } from '../engine/cllm4rec/prompts'
import { Cllm4recSession } from '../engine/cllm4rec/session'
import { ExtendedTokenizer, SoftVocab, type TextTokenizer } from '../engine/cllm4rec/vocab'
import { runBaselines as runExperimentBaselines } from '../engine/train/experiment'
import type { ProgressEvent } from '../engine/train/progress'
import { Gpt2Tokenizer } from '../engine/gpt2/tokenizer'
import { pca2 } from './pca'
import type { CheckpointBlob } from './messages'

const KINDS: PromptKind[] = ['collaborative', 'review', 'itemText', 'userText', 'recommendation']

function itemRef(d: RecDataset, item: number): A.ItemRef {
  return { item, id: d.itemIds[item], text: d.itemTexts[item] }
}

function checkIndex(what: 'user' | 'item', i: number, n: number): void {
  if (i >= n)
    throw Object.assign(new Error(`argument '${what}' must be < ${n} (dataset size)`), { status: 400 })
}

/** Whether a final checkpoint holds the best validation epoch's collaborative tables (model selection). */
export function hasSelectedTables(final: CheckpointBlob): boolean {
  return final.tensors.some((t) => t.name === 'best/zl_user')
}

/** Rebuilds a finished run's model from its final checkpoint: frozen backbone + the four tables. */
export async function loadSession(
  d: RecDataset,
  config: Cllm4recConfig,
  final: CheckpointBlob,
): Promise<Cllm4recSession> {
  await initBackend('auto')
  const dir = (final.meta.extra as { backboneDir?: string } | undefined)?.backboneDir
  const backbone = await prepareBackbone(d, config, { dir: config.backbone === 'scratch' ? dir : undefined })
  const vocab = new SoftVocab(backbone.model.config.vocabSize, d.userIds.length, d.itemIds.length)
  const model = new Cllm4recModel(backbone.model, vocab, config.initStd, config.seed)
  const byName = new Map(final.tensors.map((t) => [t.name, t]))
  // Model selection: the best validation epoch's collaborative tables, as training ended with.
  const source: Record<string, string> = {
    zl_user: byName.has('best/zl_user') ? 'best/zl_user' : 'zl_user',
    zl_item: byName.has('best/zl_item') ? 'best/zl_item' : 'zl_item',
    zc_user: 'zc_user',
    zc_item: 'zc_item',
  }
  for (const [name, v] of Object.entries(model.tables())) {
    const t = byName.get(source[name])
    if (!t || t.data.length !== v.size) throw new Error(`final checkpoint lacks table ${source[name]}`)
    tf.tidy(() => v.assign(tf.tensor(t.data, v.shape)))
  }
  return new Cllm4recSession(model, new ExtendedTokenizer(backbone.tokenizer, vocab), config, d, backbone.dir)
}

export async function inspectUser(s: Cllm4recSession, user: number, k: number): Promise<A.UserInspection> {
  const d = s.data
  checkIndex('user', user, d.userIds.length)
  const test = new Set(d.test[user])
  const scored = async (side: 'collab' | 'content'): Promise<A.ScoredItem[]> =>
    (await s.recommend(user, k, side)).map((r) => ({
      ...itemRef(d, r.item),
      score: r.score,
      hit: test.has(r.item),
    }))
  return {
    user: { user, id: d.userIds[user], nTrain: d.train[user].length },
    history: d.train[user].map((i) => itemRef(d, i)),
    recCollaborative: await scored('collab'),
    recContent: await scored('content'),
    heldOut: d.test[user].map((i) => itemRef(d, i)),
  }
}

export async function inspectItem(s: Cllm4recSession, item: number, k: number): Promise<A.ItemInspection> {
  const d = s.data
  checkIndex('item', item, d.itemIds.length)
  const near = async (table: 'zl_item' | 'zc_item'): Promise<A.ScoredItem[]> =>
    (await s.nearestItems(item, k, table)).map((r) => ({ ...itemRef(d, r.item), score: r.similarity }))
  const zl = await s.embeddings('zl_item')
  const zc = await s.embeddings('zc_item')
  let sq = 0
  for (let c = 0; c < zl.dim; c++) sq += (zl.data[item * zl.dim + c] - zc.data[item * zc.dim + c]) ** 2
  const reviews = d.reviews
    .filter((r) => r.item === item)
    .slice(0, MAX_ITEM_REVIEWS)
    .map((r) => ({ user: r.user, userId: d.userIds[r.user], text: r.text }))
  return {
    item: itemRef(d, item),
    neighborsCollaborative: await near('zl_item'),
    neighborsContent: await near('zc_item'),
    distance: Math.sqrt(sq),
    reviews,
  }
}

/** Reviews shown with an item: enough to read what the content LLM saw, not the whole corpus. */
const MAX_ITEM_REVIEWS = 20

/** PCA of both item tables, on the maxItems most-interacted items (all when fewer). */
export async function projection(s: Cllm4recSession, maxItems: number): Promise<A.Projection> {
  const d = s.data
  const counts = new Float64Array(d.itemIds.length)
  for (const items of d.train) for (const i of items) counts[i]++
  const items = [...counts.keys()].sort((a, b) => counts[b] - counts[a] || a - b).slice(0, maxItems)
  const zl = await s.embeddings('zl_item')
  const zc = await s.embeddings('zc_item')
  const rows = (t: { data: Float32Array; dim: number }): Float64Array => {
    const out = new Float64Array(items.length * t.dim)
    items.forEach((i, r) => out.set(t.data.subarray(i * t.dim, (i + 1) * t.dim), r * t.dim))
    return out
  }
  const pl = pca2(rows(zl), items.length, zl.dim)
  const pc = pca2(rows(zc), items.length, zc.dim)
  return {
    points: items.map((i, r) => {
      let sq = 0
      for (let c = 0; c < zl.dim; c++) sq += (zl.data[i * zl.dim + c] - zc.data[i * zc.dim + c]) ** 2
      return {
        item: i,
        id: d.itemIds[i],
        collaborative: [pl.coords[2 * r], pl.coords[2 * r + 1]] as [number, number],
        content: [pc.coords[2 * r], pc.coords[2 * r + 1]] as [number, number],
        distance: Math.sqrt(sq),
      }
    }),
    explainedVariance: { collaborative: pl.explained, content: pc.explained },
  }
}

export async function generateReview(
  s: Cllm4recSession,
  user: number,
  item: number,
  n: number,
  sampling?: Sampling,
): Promise<{ prompt: string; text: string }> {
  checkIndex('user', user, s.data.userIds.length)
  checkIndex('item', item, s.data.itemIds.length)
  const r = await s.generateReview(user, item, n, undefined, sampling)
  return { prompt: r.prompt, text: r.text }
}

/** A text tokenizer for previews: an HF folder's, or the cached scratch backbone's. */
export function loadTokenizer(dir: string): TextTokenizer {
  return Gpt2Tokenizer.fromDir(dir)
}

export function checkTemplates(t: A.PromptTemplates, tok: TextTokenizer | null): A.TemplateCheck[] {
  return KINDS.map((kind) => {
    const errors: string[] = []
    try {
      validateTemplate(kind, t[kind])
    } catch (err) {
      errors.push((err as Error).message)
    }
    // Count as documents are encoded: each text segment between soft tokens on its own.
    const segments = hardSegments(t[kind])
    const hardTokenCount = tok ? segments.reduce((n, seg) => n + tok.encode(seg).length, 0) : -1
    if (!tok)
      errors.push(
        'hard-token count needs a tokenizer: choose a dataset (the scratch backbone learns its BPE there)',
      )
    return { kind, ok: errors.length === 0 || (errors.length === 1 && !tok), errors, hardTokenCount }
  })
}

export function previewDocument(
  d: RecDataset,
  tok: TextTokenizer,
  a: { templates: A.PromptTemplates; kind: A.DocumentKind; user: number; item: number },
  maxLength: number,
): A.DocumentPreview {
  checkIndex('user', a.user, d.userIds.length)
  checkIndex('item', a.item, d.itemIds.length)
  const vocab = new SoftVocab(tokVocabSize(tok), d.userIds.length, d.itemIds.length)
  const ext = new ExtendedTokenizer(tok, vocab)
  const errors: string[] = []
  try {
    validateTemplate(a.kind, a.templates[a.kind])
  } catch (err) {
    return {
      kind: a.kind,
      tokens: [],
      promptTokens: 0,
      mainTokens: 0,
      truncated: false,
      errors: [(err as Error).message],
    }
  }
  let text = ''
  if (a.kind === 'review') {
    text = trainingReviews(d).find((r) => r.user === a.user && r.item === a.item)?.text ?? ''
    if (!text) errors.push(`user ${a.user} has no training review of item ${a.item}: main text is empty`)
  } else if (a.kind === 'itemText') text = d.itemTexts[a.item] ?? ''
  else if (a.kind === 'userText') text = d.userTexts[a.user] ?? ''
  const r = renderDocument(
    ext,
    a.templates,
    a.kind,
    { user: a.user, item: a.item, items: d.train[a.user], text },
    { maxLength },
  )
  return {
    kind: a.kind,
    tokens: r.ids.map((id, i) => ({ id, piece: r.pieces[i], role: r.roles[i] })),
    promptTokens: r.promptTokens,
    mainTokens: r.ids.length - r.promptTokens,
    truncated: r.truncated,
    errors,
  }
}

function tokVocabSize(tok: TextTokenizer): number {
  const t = tok as unknown as { vocabSize?: number; idToToken?: string[] }
  if (typeof t.vocabSize === 'number') return t.vocabSize
  if (t.idToToken) return t.idToToken.length
  throw new Error('tokenizer does not report its vocabulary size')
}

/** Items above which EASE is skipped: its dense J x J matrix would not fit comfortably. */
export const EASE_MAX_ITEMS = 20_000

/** What the baselines call reports per EASE λ and per Mult-VAE epoch (etaSec null until Mult-VAE). */
export interface BaselineProgress {
  stage: string
  step: number
  totalSteps: number
  etaSec: number | null
}

/** An engine progress event as the job's reply carries it (an unknown ETA is null: NaN is no JSON). */
export function jobProgress(e: ProgressEvent): BaselineProgress {
  return {
    stage: e.stage,
    step: e.step,
    totalSteps: e.totalSteps,
    etaSec: Number.isFinite(e.etaSec) ? e.etaSec : null,
  }
}

/**
 * Popularity, EASE (λ chosen on validation, skipped where its dense J x J matrix would not fit
 * comfortably) and Mult-VAE (MULT_VAE_EPOCHS, best validation epoch): the CLI's baselines, named by
 * their setting so that rows of another schedule never group with these.
 */
export async function runBaselines(
  d: RecDataset,
  signal: AbortSignal,
  onProgress: (p: BaselineProgress) => void,
): Promise<{ model: string; test: A.Metrics; durationSec: number }[]> {
  await initBackend('auto')
  const rows = await runExperimentBaselines(
    d,
    { ease: d.itemIds.length <= EASE_MAX_ITEMS },
    { signal, onProgress: (e) => onProgress(jobProgress(e)) },
  )
  return rows.map((r) => ({
    model: r.setting ? `${r.model} (${r.setting})` : r.model,
    test: { recall20: r.recall20, recall40: r.recall40, ndcg100: r.ndcg100 },
    durationSec: r.seconds,
  }))
}
