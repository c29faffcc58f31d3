// Entry points of the pure data layer: format detection, previews, reading any supported source into
// RawData, file hashing, and the whole pure pipeline (read -> preprocess -> stats). The store's
// importDataset wraps this with the SQLite write.
import fs from 'node:fs'
import path from 'node:path'
import { createHash } from 'node:crypto'
import { assertAllowed } from './allow-list'
import { DataError, throwIfAborted } from './errors'
import { headLines } from './line-reader'
import { RawData, type RawInteraction, type RawSink } from './raw'
import {
  preprocess,
  type InteractionValues,
  type PreprocessOptions,
  type PreprocessReport,
} from './preprocess'
import { computeStats, type DatasetStats } from './stats'
import type { RecDataset } from './types'
import { FORMAT_NAMES, type FormatName, type ReadOptions, type ReadResult } from './formats/common'
import { readAmazonReviews } from './formats/amazon'
import { movieLensLayout, readMovieLens } from './formats/movielens'
import {
  readDelimited,
  resolveColumns,
  sniffDelimited,
  splitRecord,
  type ColumnMap,
} from './formats/delimited'
import { readRecBole, recBoleLayout } from './formats/recbole'
import { cllm4recLayout, readCllm4Rec } from './formats/cllm4rec'
import { ProgressTracker } from './progress'

export type { FormatName, ReadOptions, ReadResult, ColumnMap }
export { FORMAT_NAMES }

function statOrThrow(p: string): fs.Stats {
  try {
    return fs.statSync(p)
  } catch {
    throw new DataError('file not found', { file: p })
  }
}

/** Guesses the format of a file or folder from names, magic bytes and the first line. */
export async function detectFormat(p: string): Promise<FormatName> {
  const st = statOrThrow(p)
  if (movieLensLayout(p)) return 'movielens'
  if (cllm4recLayout(p)) return 'cllm4rec'
  if (recBoleLayout(p)) return 'recbole'
  if (st.isDirectory())
    throw new DataError(
      'folder has no known layout (MovieLens u.data/ratings.dat, CLLM4Rec meta + splits, RecBole .inter)',
      {
        file: p,
      },
    )
  if (st.size === 0) throw new DataError('empty file', { file: p })
  const fd = fs.openSync(p, 'r')
  const head = Buffer.alloc(4)
  fs.readSync(fd, head, 0, 4, 0)
  fs.closeSync(fd)
  if (head.readUInt32LE(0) === 0x04034b50)
    throw new DataError('a zip archive: extract it, or pass the CLLM4Rec folder that holds the .npz files', {
      file: p,
    })
  const first = (await headLines(p, 1))[0]
  if (first === undefined) throw new DataError('empty file', { file: p })
  if (first.trimStart().startsWith('{')) {
    let o: Record<string, unknown>
    try {
      o = JSON.parse(first)
    } catch (err) {
      throw new DataError(`looks like JSON Lines but the line is malformed (${(err as Error).message})`, {
        file: p,
        line: 1,
      })
    }
    if (('reviewerID' in o || 'user_id' in o) && ('asin' in o || 'parent_asin' in o)) return 'amazon'
    throw new DataError(`JSON Lines with unknown fields (${Object.keys(o).slice(0, 8).join(', ')})`, {
      file: p,
      line: 1,
    })
  }
  return 'csv'
}

export async function readSource(
  p: string,
  sink: RawSink,
  opts: ReadOptions & { format?: FormatName } = {},
): Promise<ReadResult> {
  assertAllowed(p, opts.allowedRoots)
  const format = opts.format ?? (await detectFormat(p))
  throwIfAborted(opts.signal)
  switch (format) {
    case 'amazon':
      return readAmazonReviews(p, sink, opts)
    case 'movielens':
      return readMovieLens(p, sink, opts)
    case 'recbole':
      return readRecBole(p, sink, opts)
    case 'cllm4rec':
      return readCllm4Rec(p, sink, opts)
    case 'csv': {
      const r = await readDelimited(p, sink, opts)
      return {
        format: 'csv',
        files: [p],
        rows: r.rows,
        warnings: r.header ? duplicateColumns(r.columns, p) : [],
      }
    }
    default:
      throw new DataError(`unknown format '${String(format)}' (expected ${FORMAT_NAMES.join('|')})`)
  }
}

/** sha256 over the names and bytes of every file read (streamed), to recognise a repeated import. */
export async function hashFiles(files: string[], signal?: AbortSignal): Promise<string> {
  const h = createHash('sha256')
  for (const f of files) {
    h.update(`${path.basename(f)}\0`)
    try {
      for await (const chunk of fs.createReadStream(f, { highWaterMark: 1 << 20 })) {
        throwIfAborted(signal)
        h.update(chunk as Buffer)
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new DataError('file vanished during import', { file: f })
      throw err
    }
    h.update('\0')
  }
  return h.digest('hex')
}

/** Header names that occur twice (compared as the column map compares them: case-insensitive). */
function duplicateColumns(columns: string[], file: string): string[] {
  const first = new Map<string, number>()
  const out: string[] = []
  columns.forEach((c, i) => {
    const k = c.toLowerCase()
    const j = first.get(k)
    if (j === undefined) first.set(k, i)
    else
      out.push(
        `${file}, line 1: column '${c}' appears twice (columns ${j + 1} and ${i + 1}); a name in the map means column ${j + 1}`,
      )
  })
  return out
}

function negativeRatings(raw: RawData, files: string[]): string[] {
  let n = 0
  let min = 0
  for (let r = 0; r < raw.length; r++) {
    const v = raw.ratings[r]
    if (v < 0) {
      n++
      if (v < min) min = v
    }
  }
  return n
    ? [`${files[0]}: ${n} interaction(s) have a negative rating (lowest ${min}); check the rating column`]
    : []
}

export interface FilePreview {
  format: FormatName
  columns: string[]
  rows: string[][]
  /** Delimited text only: the sniffed separator, header flag and guessed role -> column mapping. */
  sep?: string
  header?: boolean
  mapping?: Partial<Record<string, number>>
}

class PreviewDone extends Error {}

/** The first n rows, for the import dialog: raw columns for delimited text, parsed interactions otherwise. */
export async function previewFile(
  p: string,
  n = 10,
  opts: ReadOptions & { format?: FormatName } = {},
): Promise<FilePreview> {
  assertAllowed(p, opts.allowedRoots)
  const format = opts.format ?? (await detectFormat(p))
  if (format === 'csv') {
    const lines = await headLines(p, n + 1, opts.encoding)
    const s = sniffDelimited(lines, p, opts.sep)
    if (opts.header !== undefined) s.header = opts.header
    let mapping: Partial<Record<string, number>> | undefined
    try {
      mapping = resolveColumns(s, opts.map, p)
    } catch {
      mapping = undefined
    }
    const rows = lines
      .slice(s.header ? 1 : 0)
      .map((l, i) => splitRecord(l, s.sep, { file: p, line: i + 1 }) ?? [l])
      .slice(0, n)
    return { format, columns: s.columns, rows, sep: s.sep, header: s.header, mapping }
  }
  const rows: string[][] = []
  const sink = new RawData()
  const limited: RawSink = {
    add: (...args) => {
      sink.add(...args)
      const r: RawInteraction = sink.row(sink.length - 1)
      rows.push([r.user, r.item, fmt(r.rating), fmt(r.timestamp), r.text ?? '', r.split ?? ''])
      if (rows.length >= n) throw new PreviewDone()
    },
    setItemText: () => {},
    setUserText: () => {},
    declareUsers: () => {},
    declareItems: () => {},
  }
  try {
    await readSource(p, limited, { ...opts, format, itemsFile: undefined })
  } catch (err) {
    if (!(err instanceof PreviewDone)) throw err
  }
  return { format, columns: ['user', 'item', 'rating', 'timestamp', 'text', 'split'], rows }
}

const fmt = (x: number | undefined) => (x === undefined ? '' : String(x))

export interface BuildOptions extends ReadOptions, Omit<PreprocessOptions, 'name'> {
  format?: FormatName
  name?: string
}

export interface BuiltDataset {
  dataset: RecDataset
  stats: DatasetStats
  report: PreprocessReport
  values: InteractionValues
  source: ReadResult
  fileHash: string
  /** Accepted but suspicious input, to show with the import report. */
  warnings: string[]
}

/** The pure pipeline: read + hash + preprocess + stats. No database involved. */
export async function buildDataset(p: string, opts: BuildOptions = {}): Promise<BuiltDataset> {
  const raw = new RawData()
  const source = await readSource(p, raw, opts)
  throwIfAborted(opts.signal)
  const t = new ProgressTracker(opts.onProgress, 'hash', 0)
  const fileHash = await hashFiles(source.files, opts.signal)
  t.update(0, source.rows, true)
  const name = opts.name ?? defaultName(p)
  const pre = new ProgressTracker(opts.onProgress, 'preprocess', 0)
  pre.update(0, raw.length, true)
  const { dataset, report, values } = preprocess(raw, { ...opts, name })
  const stats = computeStats(dataset, report)
  const warnings = [...(source.warnings ?? []), ...negativeRatings(raw, source.files)]
  return { dataset, stats, report, values, source, fileHash, warnings }
}

export function defaultName(p: string): string {
  const base = path.basename(p.replace(/[\\/]+$/, ''))
  const stem = base
    .replace(/\.(gz|jsonl|json|tsv|csv|txt|inter|dat|data|npz|pkl)$/gi, '')
    .replace(/\.(jsonl|json|tsv|csv)$/i, '')
  if (['original', 'converted'].includes(stem)) return `${path.basename(path.dirname(p))}-${stem}`
  return stem || 'dataset'
}
