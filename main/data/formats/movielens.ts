// MovieLens 100K (u.data tab-separated + u.item latin-1 '|'-separated) and 1M (ratings.dat +
// movies.dat, '::'-separated, latin-1), given the folder or the ratings file. Item text is
// "title (year), genres: a, b" (titles already carry the year).
import fs from 'node:fs'
import path from 'node:path'
import { DataError, throwIfAborted } from '../errors'
import { readLineBatches } from '../line-reader'
import { ProgressTracker, tick } from '../progress'
import type { RawSink } from '../raw'
import type { ReadOptions, ReadResult } from './common'

const ML100K_GENRES = [
  'unknown', 'Action', 'Adventure', 'Animation', "Children's", 'Comedy', 'Crime', 'Documentary', 'Drama',
  'Fantasy', 'Film-Noir', 'Horror', 'Musical', 'Mystery', 'Romance', 'Sci-Fi', 'Thriller', 'War', 'Western',
] // prettier-ignore

export interface MovieLensLayout {
  variant: '100k' | '1m'
  ratings: string
  items: string | null
  genres: string | null
}

/** Finds the ratings / items files from a folder or one of its files; null if it is not MovieLens. */
export function movieLensLayout(p: string): MovieLensLayout | null {
  const isDir = fs.existsSync(p) && fs.statSync(p).isDirectory()
  const dir = isDir ? p : path.dirname(p)
  const base = isDir ? null : path.basename(p)
  const has = (f: string) => fs.existsSync(path.join(dir, f))
  if ((base === null && has('u.data')) || base === 'u.data' || base === 'u.item')
    return {
      variant: '100k',
      ratings: path.join(dir, 'u.data'),
      items: has('u.item') ? path.join(dir, 'u.item') : null,
      genres: has('u.genre') ? path.join(dir, 'u.genre') : null,
    }
  if ((base === null && has('ratings.dat')) || base === 'ratings.dat' || base === 'movies.dat')
    return {
      variant: '1m',
      ratings: path.join(dir, 'ratings.dat'),
      items: has('movies.dat') ? path.join(dir, 'movies.dat') : null,
      genres: null,
    }
  return null
}

async function eachLine(
  file: string,
  opts: ReadOptions,
  encoding: 'utf-8' | 'latin1',
  fn: (line: string, lineNo: number) => void,
): Promise<number> {
  const tracker = new ProgressTracker(opts.onProgress, 'parse', 0, file)
  let n = 0
  for await (const b of readLineBatches(file, {
    encoding,
    signal: opts.signal,
    maxLineBytes: opts.maxLineBytes,
    onBytes: tracker.onBytes,
    allowedRoots: opts.allowedRoots,
  })) {
    throwIfAborted(opts.signal)
    for (let i = 0; i < b.lines.length; i++) {
      if (b.lines[i] === '') continue
      fn(b.lines[i], b.firstLine + i)
      n++
    }
    tick(tracker, n)
  }
  if (n === 0) throw new DataError('empty file', { file })
  return n
}

const FIELDS = ['user', 'item', 'rating', 'timestamp']

export async function readMovieLens(p: string, sink: RawSink, opts: ReadOptions = {}): Promise<ReadResult> {
  const layout = movieLensLayout(p)
  if (!layout) throw new DataError('not a MovieLens folder (no u.data or ratings.dat)', { file: p })
  const sep = layout.variant === '100k' ? '\t' : '::'
  const file = layout.ratings
  const rows = await eachLine(file, opts, 'utf-8', (text, line) => {
    const f = text.split(sep)
    if (f.length < 4)
      throw new DataError(`expected 4 fields (user, item, rating, timestamp), got ${f.length}`, {
        file,
        line,
        field: FIELDS[f.length],
      })
    const rating = Number(f[2])
    const ts = Number(f[3])
    if (!Number.isFinite(rating))
      throw new DataError(`not a number: '${f[2]}'`, { file, line, field: 'rating' })
    if (!Number.isFinite(ts))
      throw new DataError(`not a number: '${f[3]}'`, { file, line, field: 'timestamp' })
    sink.add(f[0], f[1], rating, ts)
  })
  const files = [file]
  if (layout.items) {
    const itemsFile = layout.items
    let genres = ML100K_GENRES
    if (layout.genres) {
      const genreFile = layout.genres
      const g: string[] = []
      // Checked here: a bad u.genre would otherwise surface as a field-count error against u.item.
      await eachLine(genreFile, opts, 'latin1', (t, line) => {
        const f = t.split('|')
        if (f.length !== 2 || f[0] === '')
          throw new DataError(`expected 'name|index', got '${t.slice(0, 40)}'`, { file: genreFile, line })
        if (!/^(0|[1-9]\d{0,2})$/.test(f[1]))
          throw new DataError(`genre index '${f[1]}' is not an integer below 1000`, {
            file: genreFile,
            line,
            field: 'index',
          })
        if (g[Number(f[1])] !== undefined)
          throw new DataError(`genre index ${f[1]} appears twice`, { file: genreFile, line, field: 'index' })
        g[Number(f[1])] = f[0]
      })
      if (Array.from(g).some((x) => x === undefined))
        throw new DataError('genre indices are not 0..n-1 without gaps', { file: genreFile })
      if (g.length) genres = g
      files.push(layout.genres)
    }
    // Both releases are ISO-8859-1 (e.g. "Misérables, Les (1995)"): decoding as UTF-8 would fail.
    await eachLine(itemsFile, opts, 'latin1', (t, line) => {
      if (layout.variant === '100k') {
        const f = t.split('|')
        if (f.length < 5 + genres.length)
          throw new DataError(
            `expected ${5 + genres.length} '|'-separated fields (5 + ${genres.length} genres${layout.genres ? ' from u.genre' : ''}), got ${f.length}`,
            {
              file: itemsFile,
              line,
            },
          )
        const g = genres.filter((_, i) => f[5 + i] === '1')
        sink.setItemText(f[0], g.length ? `${f[1]}, genres: ${g.join(', ')}` : f[1])
      } else {
        const f = t.split('::')
        if (f.length < 3)
          throw new DataError(`expected 3 '::'-separated fields, got ${f.length}`, { file: itemsFile, line })
        const g = f[2].split('|').filter(Boolean)
        sink.setItemText(f[0], g.length ? `${f[1]}, genres: ${g.join(', ')}` : f[1])
      }
    })
    files.push(itemsFile)
  }
  return { format: 'movielens', files, rows }
}
