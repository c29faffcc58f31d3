// Delimited text (CSV / TSV / ';' / '|' ...): separator and header sniffing, RFC-4180 quoted fields
// (embedded separators, doubled quotes, newlines inside quotes), and a column mapping
// user/item/rating/timestamp/text given explicitly (--map) or guessed from header names.
import { assertAllowed } from '../allow-list'
import { DataError, throwIfAborted } from '../errors'
import { MAX_LINE_BYTES, headLines, readLineBatches, type TextEncoding } from '../line-reader'
import { ProgressTracker, tick, type ProgressCallback } from '../progress'
import type { RawSink } from '../raw'

export type ColumnRole = 'user' | 'item' | 'rating' | 'timestamp' | 'text'
export const COLUMN_ROLES: ColumnRole[] = ['user', 'item', 'rating', 'timestamp', 'text']
/** A column given by header name or 0-based index. */
export type ColumnMap = Partial<Record<ColumnRole, string | number>>

export interface DelimitedOptions {
  sep?: string
  header?: boolean
  map?: ColumnMap
  encoding?: TextEncoding
  signal?: AbortSignal
  onProgress?: ProgressCallback
  maxLineBytes?: number
  allowedRoots?: readonly string[]
}

const KNOWN: Record<ColumnRole, string[]> = {
  user: ['user', 'user_id', 'userid', 'uid', 'reviewerid', 'user_id:token', 'customer_id'],
  item: ['item', 'item_id', 'itemid', 'iid', 'asin', 'movieid', 'movie_id', 'product_id', 'item_id:token'],
  rating: ['rating', 'overall', 'score', 'stars', 'rating:float'],
  timestamp: ['timestamp', 'time', 'ts', 'unix_time', 'unixreviewtime', 'date', 'timestamp:float'],
  text: ['text', 'review', 'reviewtext', 'review_text', 'comment', 'body'],
}

const SEP_CANDIDATES = ['\t', ',', ';', '|']

/** "user=0,item=asin,rating=2" -> ColumnMap (numbers are 0-based column indices). */
export function parseColumnMap(spec: string): ColumnMap {
  const map: ColumnMap = {}
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=')
    const key = part.slice(0, eq).trim() as ColumnRole
    const val = part.slice(eq + 1).trim()
    if (eq < 1 || !COLUMN_ROLES.includes(key) || val === '')
      throw new DataError(
        `bad --map entry '${part}': expected role=column with role in ${COLUMN_ROLES.join('|')}`,
      )
    map[key] = /^\d+$/.test(val) ? Number(val) : val
  }
  return map
}

/**
 * Splits one record. Returns null when a quoted field is still open at the end of `s`
 * (the record continues on the next line).
 */
export function splitRecord(s: string, sep: string, where: { file: string; line: number }): string[] | null {
  if (s.indexOf('"') === -1) return s.split(sep)
  const out: string[] = []
  let i = 0
  for (;;) {
    if (s.charCodeAt(i) === 34) {
      let val = ''
      let j = i + 1
      for (;;) {
        const k = s.indexOf('"', j)
        if (k === -1) return null
        val += s.slice(j, k)
        if (s.charCodeAt(k + 1) === 34) {
          val += '"'
          j = k + 2
          continue
        }
        i = k + 1
        break
      }
      out.push(val)
      if (i >= s.length) return out
      if (!s.startsWith(sep, i))
        throw new DataError(`unexpected text after a closing quote in column ${out.length}`, where)
      i += sep.length
    } else {
      const k = s.indexOf(sep, i)
      if (k === -1) {
        out.push(s.slice(i))
        return out
      }
      out.push(s.slice(i, k))
      i = k + sep.length
    }
  }
}

export interface Sniffed {
  sep: string
  header: boolean
  columns: string[]
}

function recordFieldCounts(lines: string[], sep: string): number[] {
  const out: number[] = []
  let pending: string | null = null
  for (const l of lines) {
    const text: string = pending === null ? l : pending + '\n' + l
    let f: string[] | null
    try {
      f = splitRecord(text, sep, { file: '', line: 0 })
    } catch {
      f = []
    }
    if (f === null) {
      pending = text
      continue
    }
    pending = null
    out.push(f.length)
  }
  return out
}

const isNum = (s: string) => s.trim() !== '' && Number.isFinite(Number(s))

/** Guesses separator and header from the first lines. */
export function sniffDelimited(lines: string[], file = '', sep?: string): Sniffed {
  const sample = lines.slice(0, 50)
  if (sample.length === 0) throw new DataError('empty file', { file })
  let chosen = sep
  if (!chosen) {
    // Score each candidate on whole records (quoted newlines re-joined): the first record's field count
    // must be > 1 and shared by most records; a few malformed rows must not defeat detection.
    let bestAgree = 0
    let bestK = 0
    for (const c of SEP_CANDIDATES) {
      const counts = recordFieldCounts(sample, c)
      const k = counts[0] ?? 0
      if (k < 2) continue
      const agree = counts.filter((x) => x === k).length / counts.length
      if (agree >= 0.5 && (agree > bestAgree || (agree === bestAgree && k > bestK))) {
        bestAgree = agree
        bestK = k
        chosen = c
      }
    }
    if (!chosen) throw new DataError('could not detect a column separator; pass --sep', { file, line: 1 })
  }
  const first = splitRecord(sample[0], chosen, { file, line: 1 }) ?? []
  const known = new Set(Object.values(KNOWN).flat())
  let header = first.some((f) => known.has(f.trim().toLowerCase()))
  if (!header && sample.length > 1) {
    const second = splitRecord(sample[1], chosen, { file, line: 2 }) ?? []
    header = first.some((f, i) => !isNum(f) && second[i] !== undefined && isNum(second[i]))
  }
  const columns = header ? first.map((f) => f.trim()) : first.map((_, i) => `column ${i}`)
  return { sep: chosen, header, columns }
}

/** Resolves roles to column indices; explicit map wins, then header names, then positional defaults. */
export function resolveColumns(
  sniffed: Sniffed,
  map: ColumnMap | undefined,
  file: string,
): Partial<Record<ColumnRole, number>> {
  const out: Partial<Record<ColumnRole, number>> = {}
  const lower = sniffed.columns.map((c) => c.toLowerCase())
  for (const role of COLUMN_ROLES) {
    const want = map?.[role]
    if (want === undefined) continue
    if (typeof want === 'number') {
      if (want >= sniffed.columns.length)
        throw new DataError(`column ${want} does not exist (file has ${sniffed.columns.length} columns)`, {
          file,
          line: 1,
          field: role,
        })
      out[role] = want
    } else {
      const ix = lower.indexOf(want.toLowerCase())
      if (ix === -1)
        throw new DataError(`no column named '${want}' (columns: ${sniffed.columns.join(', ')})`, {
          file,
          line: 1,
          field: role,
        })
      out[role] = ix
    }
  }
  if (!map?.user && map?.user !== 0 && !map?.item && map?.item !== 0) {
    if (sniffed.header) {
      for (const role of COLUMN_ROLES) {
        if (out[role] !== undefined) continue
        const ix = lower.findIndex((c) => KNOWN[role].includes(c))
        if (ix !== -1) out[role] = ix
      }
    } else {
      const defaults: ColumnRole[] = ['user', 'item', 'rating', 'timestamp']
      defaults.forEach((role, i) => {
        if (out[role] === undefined && i < sniffed.columns.length) out[role] = i
      })
    }
  }
  for (const role of ['user', 'item'] as const)
    if (out[role] === undefined)
      throw new DataError(
        `missing column for '${role}' (columns: ${sniffed.columns.join(', ')}); pass --map ${role}=COLUMN`,
        { file, line: 1, field: role },
      )
  return out
}

export function parseNumber(
  s: string,
  where: { file: string; line: number; field: string },
): number | undefined {
  const t = s.trim()
  if (t === '') return undefined
  const v = Number(t)
  if (!Number.isFinite(v)) throw new DataError(`not a number: '${t.slice(0, 40)}'`, where)
  return v
}

export function parseTimestamp(
  s: string,
  where: { file: string; line: number; field: string },
): number | undefined {
  const t = s.trim()
  if (t === '') return undefined
  const v = Number(t)
  if (Number.isFinite(v)) return v
  const d = Date.parse(t)
  if (Number.isNaN(d)) throw new DataError(`not a unix time or ISO date: '${t.slice(0, 40)}'`, where)
  return d / 1000
}

/** Streams a delimited file into the sink. Returns the resolved layout (for reports and previews). */
export async function readDelimited(
  file: string,
  sink: RawSink,
  opts: DelimitedOptions = {},
): Promise<Sniffed & { roles: Partial<Record<ColumnRole, number>>; rows: number }> {
  const enc = opts.encoding ?? 'utf-8'
  assertAllowed(file, opts.allowedRoots)
  const sniffed = sniffDelimited(await headLines(file, 50, enc), file, opts.sep)
  if (opts.header !== undefined) sniffed.header = opts.header
  const roles = resolveColumns(sniffed, opts.map, file)
  const need = Math.max(...Object.values(roles).map((x) => x as number)) + 1
  const maxLine = opts.maxLineBytes ?? MAX_LINE_BYTES
  let rows = 0
  let pending: string | null = null
  let pendingLine = 0
  let skipHeader = sniffed.header
  const tracker = new ProgressTracker(opts.onProgress, 'parse', 0, file)
  const { user: cu, item: ci, rating: cr, timestamp: ct, text: cx } = roles
  for await (const batch of readLineBatches(file, {
    encoding: enc,
    signal: opts.signal,
    maxLineBytes: opts.maxLineBytes,
    onBytes: tracker.onBytes,
    allowedRoots: opts.allowedRoots,
  })) {
    throwIfAborted(opts.signal)
    for (let li = 0; li < batch.lines.length; li++) {
      const lineNo = batch.firstLine + li
      let text = batch.lines[li]
      let start = lineNo
      if (pending !== null) {
        text = pending + '\n' + text
        start = pendingLine
        if (text.length > maxLine)
          throw new DataError('quoted field longer than the line limit (unbalanced quote?)', {
            file,
            line: start,
          })
      } else if (text.trim() === '') continue
      const f = splitRecord(text, sniffed.sep, { file, line: start })
      if (f === null) {
        pending = text
        pendingLine = start
        continue
      }
      pending = null
      if (skipHeader) {
        skipHeader = false
        continue
      }
      if (f.length < need) {
        const missing = (Object.entries(roles) as [ColumnRole, number][]).find(([, c]) => c >= f.length)
        throw new DataError(`expected at least ${need} columns, got ${f.length}`, {
          file,
          line: start,
          field: missing?.[0],
        })
      }
      const user = f[cu!].trim()
      const item = f[ci!].trim()
      if (user === '') throw new DataError('empty user id', { file, line: start, field: 'user' })
      if (item === '') throw new DataError('empty item id', { file, line: start, field: 'item' })
      const rating = cr === undefined ? undefined : parseNumber(f[cr], { file, line: start, field: 'rating' })
      const ts =
        ct === undefined ? undefined : parseTimestamp(f[ct], { file, line: start, field: 'timestamp' })
      sink.add(user, item, rating, ts, cx === undefined ? undefined : f[cx])
      rows++
    }
    tick(tracker, rows)
  }
  if (pending !== null)
    throw new DataError('unterminated quoted field at end of file', { file, line: pendingLine })
  if (rows === 0) throw new DataError('empty file: no data rows', { file })
  tick(tracker, rows, true)
  return { ...sniffed, roles, rows }
}
