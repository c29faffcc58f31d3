// Amazon review data, JSON Lines (plain or .gz): the 2014 and 2018 releases share field names
// (reviewerID, asin, overall, reviewText, summary, unixReviewTime); the 2023 names (user_id,
// parent_asin/asin, rating, text, title, timestamp in ms) are accepted too. An optional metadata
// file (asin, title, description, categories/category, brand) gives item texts.
import { DataError } from '../errors'
import { ProgressTracker, tick } from '../progress'
import type { RawSink } from '../raw'
import { importLineBatches, type ReadOptions, type ReadResult } from './common'
import { parsePythonLiteral } from './py-literal'

type Json = Record<string, unknown>

function parseLine(text: string, file: string, line: number, pythonOk = false): Json {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (err) {
    // 2014 metadata lines are Python reprs ({'asin': ...}); accept them where that format occurs.
    if (!pythonOk) throw new DataError(`malformed JSON (${(err as Error).message})`, { file, line })
    try {
      v = parsePythonLiteral(text)
    } catch (e2) {
      throw new DataError(`neither JSON nor a Python literal (${(e2 as Error).message})`, { file, line })
    }
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new DataError('expected a JSON object per line', { file, line })
  return v as Json
}

function idField(o: Json, names: string[], file: string, line: number): string {
  for (const n of names) {
    const v = o[n]
    if (typeof v === 'string' && v !== '') return v
    // Numbers beyond 2^53 would already be rounded by JSON.parse; reject rather than merge ids.
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v))
        throw new DataError(`numeric id ${v} is not a safe integer; store ids as strings`, {
          file,
          line,
          field: n,
        })
      return String(v)
    }
  }
  throw new DataError(`missing ${names.join(' / ')}`, { file, line, field: names[0] })
}

function numField(o: Json, names: string[], file: string, line: number): number | undefined {
  for (const n of names) {
    const v = o[n]
    if (v === undefined || v === null) continue
    const x = typeof v === 'string' ? Number(v) : v
    if (typeof x !== 'number' || !Number.isFinite(x))
      throw new DataError(`not a number: ${JSON.stringify(v).slice(0, 40)}`, { file, line, field: n })
    return x
  }
  return undefined
}

function strField(o: Json, names: string[]): string | undefined {
  for (const n of names) {
    const v = o[n]
    if (typeof v === 'string' && v.trim() !== '') return v
  }
  return undefined
}

export async function readAmazonReviews(
  file: string,
  sink: RawSink,
  opts: ReadOptions = {},
): Promise<ReadResult> {
  const tracker = new ProgressTracker(opts.onProgress, 'parse', 0, file)
  let rows = 0
  for await (const b of importLineBatches(file, opts, tracker)) {
    for (let i = 0; i < b.lines.length; i++) {
      const text = b.lines[i]
      if (text.trim() === '') continue
      const line = b.firstLine + i
      const o = parseLine(text, file, line)
      const user = idField(o, ['reviewerID', 'user_id'], file, line)
      const item = idField(o, ['asin', 'parent_asin'], file, line)
      const rating = numField(o, ['overall', 'rating'], file, line)
      let ts = numField(o, ['unixReviewTime'], file, line)
      if (ts === undefined) {
        const ms = numField(o, ['timestamp'], file, line)
        if (ms !== undefined) ts = ms / 1000
      }
      const review = strField(o, ['reviewText', 'text']) ?? strField(o, ['summary', 'title'])
      sink.add(user, item, rating, ts, review)
      rows++
    }
    tick(tracker, rows)
  }
  if (rows === 0) throw new DataError('empty file: no review records', { file })
  tick(tracker, rows, true)
  const files = [file]
  if (opts.itemsFile) {
    await readAmazonMetadata(opts.itemsFile, sink, opts)
    files.push(opts.itemsFile)
  }
  return { format: 'amazon', files, rows }
}

function flat(v: unknown): string[] {
  if (typeof v === 'string') return v.trim() ? [v.trim()] : []
  if (Array.isArray(v)) return v.flatMap(flat)
  return []
}

/** Item text: "title. categories. brand. description" from whatever fields are present. */
export function amazonItemText(o: Json): string | null {
  const title = strField(o, ['title'])
  const cats = [...new Set(flat(o.categories ?? o.category))]
  const brand = strField(o, ['brand'])
  const desc = flat(o.description).join(' ')
  const parts = [title, cats.length ? cats.join(', ') : undefined, brand, desc || undefined].filter(
    (x): x is string => !!x,
  )
  return parts.length ? parts.join('. ') : null
}

export async function readAmazonMetadata(
  file: string,
  sink: RawSink,
  opts: ReadOptions = {},
): Promise<number> {
  const tracker = new ProgressTracker(opts.onProgress, 'parse', 0, file)
  let n = 0
  for await (const b of importLineBatches(file, opts, tracker)) {
    for (let i = 0; i < b.lines.length; i++) {
      if (b.lines[i].trim() === '') continue
      const line = b.firstLine + i
      const o = parseLine(b.lines[i], file, line, true)
      const asin = idField(o, ['asin', 'parent_asin'], file, line)
      const t = amazonItemText(o)
      if (t) sink.setItemText(asin, t)
      n++
    }
    tick(tracker, n)
  }
  if (n === 0) throw new DataError('empty file: no metadata records', { file })
  return n
}
