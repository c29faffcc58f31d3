// CLLM4Rec's own layout, read directly: meta.pkl ({num_users, num_items}) + {train,val,test}_matrix.npz
// (scipy CSR, row = user, column = item), with optional HyperLLM item tags (id_to_tag.json +
// tag_to_item.json) as item text; and the converted layout (meta.json, train/val/test.tsv,
// items.jsonl with "tags"). Both yield the same ids ("0".."n-1") and split, hence the same data hash.
// The split is provided by the authors and kept as is (paper §7 protocol).
import fs from 'node:fs'
import path from 'node:path'
import { assertAllowed } from '../allow-list'
import { DataError, throwIfAborted } from '../errors'
import { readLineBatches } from '../line-reader'
import { ProgressTracker, tick } from '../progress'
import { SPLIT_TEST, SPLIT_TRAIN, SPLIT_VAL, type RawSink, type SplitLabel } from '../raw'
import { readPickle } from './pickle'
import { readCsrNpz } from './npz'
import type { ReadOptions, ReadResult } from './common'

const SPLITS: [string, SplitLabel][] = [
  ['train', SPLIT_TRAIN],
  ['val', SPLIT_VAL],
  ['test', SPLIT_TEST],
]

/** Auxiliary JSON files are read whole; refuse absurd sizes instead of exhausting memory. */
const MAX_JSON_BYTES = 512 * 1024 * 1024

/** Users / items a meta file may declare: every id becomes a string in memory before anything is read. */
export const MAX_META_COUNT = 50_000_000

/** A canonical non-negative integer id: '0', '17'; never '01', '1.0', '0x1', '1e0' or ' 2'. */
const CANONICAL_ID = /^(0|[1-9]\d{0,15})$/

export interface Cllm4RecLayout {
  kind: 'npz' | 'tsv'
  dir: string
}

export function cllm4recLayout(p: string): Cllm4RecLayout | null {
  const isDir = fs.existsSync(p) && fs.statSync(p).isDirectory()
  const dir = isDir ? p : path.dirname(p)
  const has = (f: string) => fs.existsSync(path.join(dir, f))
  if (!isDir && !/(meta\.(pkl|json)|(train|val|test)(_matrix\.npz|\.tsv))$/.test(path.basename(p)))
    return null
  if (has('meta.pkl') && has('train_matrix.npz')) return { kind: 'npz', dir }
  if (has('meta.json') && has('train.tsv')) return { kind: 'tsv', dir }
  return null
}

function readSmall(file: string, opts: ReadOptions): Buffer {
  assertAllowed(file, opts.allowedRoots)
  let st: fs.Stats
  try {
    st = fs.statSync(file)
  } catch {
    throw new DataError('file not found', { file })
  }
  if (st.size > MAX_JSON_BYTES)
    throw new DataError(`file too large (${st.size} bytes) for a metadata file`, { file })
  return fs.readFileSync(file)
}

function readJson(file: string, opts: ReadOptions): unknown {
  const text = readSmall(file, opts).toString('utf8')
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new DataError(`malformed JSON (${(err as Error).message})`, { file })
  }
}

type Counts = { users: number; items: number }

function metaCounts(meta: unknown, file: string): Counts {
  const get = (k: string): unknown =>
    meta instanceof Map ? meta.get(k) : (meta as Record<string, unknown>)?.[k]
  const users = get('num_users')
  const items = get('num_items')
  for (const [k, v] of [
    ['num_users', users],
    ['num_items', items],
  ] as const)
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0 || v > MAX_META_COUNT)
      throw new DataError(`expected a positive integer up to ${MAX_META_COUNT}, got ${describe(v)}`, {
        file,
        field: k,
      })
  return { users: users as number, items: items as number }
}

/** A short description of a metadata value; never String() of a pickled list (shared refs can be exponential). */
function describe(v: unknown): string {
  if (Array.isArray(v)) return `a list of ${v.length}`
  if (v instanceof Map) return 'a dict'
  if (v instanceof Set) return 'a set'
  if (v instanceof Uint8Array) return `${v.length} bytes`
  return String(v).slice(0, 40)
}

/** TSV ids must be written exactly as the npz layout numbers them, or the split would not line up. */
function checkId(raw: string, n: number, where: { file: string; line: number; field: string }): void {
  if (!CANONICAL_ID.test(raw))
    throw new DataError(`'${raw.slice(0, 40)}' is not a canonical non-negative integer id`, where)
  if (Number(raw) >= n) throw new DataError(`id ${raw} outside 0..${n - 1}`, where)
}

const idRange = (n: number) => Array.from({ length: n }, (_, i) => String(i))

/** The three split matrices of the official layout; returns the interactions read. */
function readNpzSplits(
  dir: string,
  counts: Counts,
  sink: RawSink,
  opts: ReadOptions,
  files: string[],
): number {
  let rows = 0
  for (const [name, label] of SPLITS) {
    throwIfAborted(opts.signal)
    const file = path.join(dir, `${name}_matrix.npz`)
    // meta.pkl's counts go in first: a lying shape is refused before the large members are read.
    const m = readCsrNpz(readSmall(file, opts), file, { rows: counts.users, cols: counts.items })
    for (let u = 0; u < m.rows; u++) {
      const us = String(u)
      for (let k = m.indptr[u]; k < m.indptr[u + 1]; k++)
        sink.add(us, String(m.indices[k]), m.data[k], undefined, undefined, label)
    }
    rows += m.indices.length
    files.push(file)
    opts.onProgress?.({ phase: 'parse', file, bytesRead: 0, totalBytes: 0, rows, elapsedMs: 0, etaMs: null })
  }
  return rows
}

/** The official layout's optional item tags (id_to_tag.json + tag_to_item.json) as item texts. */
function readNpzTags(dir: string, counts: Counts, sink: RawSink, opts: ReadOptions, files: string[]): void {
  const idToTag = path.join(dir, 'id_to_tag.json')
  const tagToItem = path.join(dir, 'tag_to_item.json')
  if (!fs.existsSync(idToTag) || !fs.existsSync(tagToItem)) return
  const tags = readJson(idToTag, opts) as Record<string, unknown>
  const t2i = readJson(tagToItem, opts) as Record<string, unknown>
  const perItem: string[][] = Array.from({ length: counts.items }, () => [])
  // Ascending tag id, as in the converted items.jsonl, so both layouts give the same item text.
  for (const tid of Object.keys(t2i).sort((a, b) => Number(a) - Number(b))) {
    const tag = tags[tid]
    const items = t2i[tid]
    if (typeof tag !== 'string') throw new DataError(`tag ${tid} has no text`, { file: idToTag, field: tid })
    if (!Array.isArray(items))
      throw new DataError('expected a list of item ids', { file: tagToItem, field: tid })
    for (const it of items) {
      if (!Number.isInteger(it) || it < 0 || it >= counts.items)
        throw new DataError(`item id ${String(it)} out of range`, { file: tagToItem, field: tid })
      perItem[it].push(tag)
    }
  }
  perItem.forEach((t, i) => t.length && sink.setItemText(String(i), t.join(', ')))
  files.push(idToTag, tagToItem)
}

/** The converted layout's train/val/test .tsv files; returns the interactions read. */
async function readTsvSplits(
  dir: string,
  counts: Counts,
  sink: RawSink,
  opts: ReadOptions,
  files: string[],
): Promise<number> {
  let rows = 0
  for (const [name, label] of SPLITS) {
    const file = path.join(dir, `${name}.tsv`)
    const tracker = new ProgressTracker(opts.onProgress, 'parse', 0, file)
    let header = true
    for await (const b of readLineBatches(file, {
      signal: opts.signal,
      maxLineBytes: opts.maxLineBytes,
      onBytes: tracker.onBytes,
      allowedRoots: opts.allowedRoots,
    })) {
      for (let i = 0; i < b.lines.length; i++) {
        const t = b.lines[i]
        if (header) {
          header = false
          if (!/^user_id\titem_id/.test(t))
            throw new DataError(`expected header 'user_id<TAB>item_id', got '${t.slice(0, 40)}'`, {
              file,
              line: 1,
            })
          continue
        }
        if (t === '') continue
        const line = b.firstLine + i
        const f = t.split('\t')
        if (f.length < 2)
          throw new DataError('expected user_id<TAB>item_id', { file, line, field: 'item_id' })
        checkId(f[0], counts.users, { file, line, field: 'user_id' })
        checkId(f[1], counts.items, { file, line, field: 'item_id' })
        sink.add(f[0], f[1], undefined, undefined, undefined, label)
        rows++
      }
      tick(tracker, rows)
    }
    files.push(file)
  }
  return rows
}

/** The converted layout's optional items.jsonl ({item_id, tags}) as item texts. */
async function readItemsJsonl(
  dir: string,
  counts: Counts,
  sink: RawSink,
  opts: ReadOptions,
  files: string[],
): Promise<void> {
  const itemsFile = path.join(dir, 'items.jsonl')
  if (!fs.existsSync(itemsFile)) return
  for await (const b of readLineBatches(itemsFile, {
    signal: opts.signal,
    maxLineBytes: opts.maxLineBytes,
    allowedRoots: opts.allowedRoots,
  })) {
    for (let i = 0; i < b.lines.length; i++) {
      if (b.lines[i] === '') continue
      const line = b.firstLine + i
      let o: { item_id?: unknown; tags?: unknown }
      try {
        o = JSON.parse(b.lines[i])
      } catch (err) {
        throw new DataError(`malformed JSON (${(err as Error).message})`, { file: itemsFile, line })
      }
      if (typeof o.item_id !== 'number')
        throw new DataError('missing item_id', { file: itemsFile, line, field: 'item_id' })
      if (!Number.isInteger(o.item_id) || o.item_id < 0 || o.item_id >= counts.items)
        throw new DataError(`item id ${o.item_id} outside 0..${counts.items - 1}`, {
          file: itemsFile,
          line,
          field: 'item_id',
        })
      if (Array.isArray(o.tags) && o.tags.length) sink.setItemText(String(o.item_id), o.tags.join(', '))
    }
  }
  files.push(itemsFile)
}

export async function readCllm4Rec(p: string, sink: RawSink, opts: ReadOptions = {}): Promise<ReadResult> {
  const layout = cllm4recLayout(p)
  if (!layout)
    throw new DataError('not a CLLM4Rec folder (needs meta.pkl + *_matrix.npz or meta.json + *.tsv)', {
      file: p,
    })
  const { dir } = layout
  const files: string[] = []
  let rows: number
  let counts: Counts
  if (layout.kind === 'npz') {
    const metaFile = path.join(dir, 'meta.pkl')
    counts = metaCounts(readPickle(readSmall(metaFile, opts), metaFile), metaFile)
    files.push(metaFile)
    rows = readNpzSplits(dir, counts, sink, opts, files)
    readNpzTags(dir, counts, sink, opts, files)
  } else {
    const metaFile = path.join(dir, 'meta.json')
    counts = metaCounts(readJson(metaFile, opts), metaFile)
    files.push(metaFile)
    rows = await readTsvSplits(dir, counts, sink, opts, files)
    await readItemsJsonl(dir, counts, sink, opts, files)
  }
  sink.declareUsers(idRange(counts.users))
  sink.declareItems(idRange(counts.items))
  if (rows === 0) throw new DataError('no interactions in the split files', { file: dir })
  return { format: 'cllm4rec', files, rows }
}
