// RecBole atomic files: tab-separated with a `name:type` header (token, token_seq, float, float_seq).
// `<stem>.inter` holds interactions; sibling `<stem>.item` / `<stem>.user` give item / user texts
// (all non-id fields joined). A folder with `<stem>.train.inter` / `.valid.inter` / `.test.inter`
// is read as a provided split.
import fs from 'node:fs'
import path from 'node:path'
import { DataError } from '../errors'
import { ProgressTracker, tick } from '../progress'
import { SPLIT_TEST, SPLIT_TRAIN, SPLIT_VAL, type RawSink, type SplitLabel } from '../raw'
import { importLineBatches, type ReadOptions, type ReadResult } from './common'

const TYPES = new Set(['token', 'token_seq', 'float', 'float_seq'])

interface Field {
  name: string
  type: string
}

export function parseRecBoleHeader(line: string, file: string): Field[] {
  return line.split('\t').map((h, i) => {
    const c = h.lastIndexOf(':')
    const name = h.slice(0, c).trim()
    const type = h.slice(c + 1).trim()
    if (c < 1 || !TYPES.has(type))
      throw new DataError(
        `header column ${i + 1} '${h}' is not name:type with type in token|token_seq|float|float_seq`,
        {
          file,
          line: 1,
          field: h,
        },
      )
    return { name, type }
  })
}

export interface RecBoleLayout {
  inter: { file: string; split?: SplitLabel }[]
  item: string | null
  user: string | null
}

export function recBoleLayout(p: string): RecBoleLayout | null {
  const isDir = fs.existsSync(p) && fs.statSync(p).isDirectory()
  let dir: string
  let stem: string
  if (isDir) {
    dir = p
    const inters = fs.readdirSync(p).filter((f) => f.endsWith('.inter'))
    const stems = [...new Set(inters.map((f) => f.replace(/(\.(train|valid|test))?\.inter$/, '')))]
    if (stems.length !== 1) return null
    stem = stems[0]
  } else {
    if (!/\.(inter|item|user)$/.test(p)) return null
    dir = path.dirname(p)
    stem = path.basename(p).replace(/(\.(train|valid|test))?\.(inter|item|user)$/, '')
  }
  const f = (suffix: string) => {
    const q = path.join(dir, stem + suffix)
    return fs.existsSync(q) ? q : null
  }
  const parts = ['.train.inter', '.valid.inter', '.test.inter'].map(f)
  const whole = f('.inter')
  let inter: RecBoleLayout['inter']
  if (!isDir && p.endsWith('.inter') && !/\.(train|valid|test)\.inter$/.test(p)) inter = [{ file: p }]
  else if (parts.every((x) => x !== null))
    inter = [
      { file: parts[0]!, split: SPLIT_TRAIN },
      { file: parts[1]!, split: SPLIT_VAL },
      { file: parts[2]!, split: SPLIT_TEST },
    ]
  else if (whole) inter = [{ file: whole }]
  else if (parts.some((x) => x !== null)) {
    // Part of a provided split: say which file is missing rather than "no .inter file".
    const missing = ['.train.inter', '.valid.inter', '.test.inter'].filter((_, i) => parts[i] === null)
    throw new DataError(
      `a provided split needs ${stem}.train.inter, .valid.inter and .test.inter; missing ${missing.map((m) => stem + m).join(', ')}`,
      { file: dir },
    )
  } else return null
  return { inter, item: f('.item'), user: f('.user') }
}

async function readAtomic(
  file: string,
  opts: ReadOptions,
  onRow: (values: string[], fields: Field[], line: number) => void,
): Promise<number> {
  const tracker = new ProgressTracker(opts.onProgress, 'parse', 0, file)
  let fields: Field[] | null = null
  let n = 0
  for await (const b of importLineBatches(file, opts, tracker)) {
    for (let i = 0; i < b.lines.length; i++) {
      const t = b.lines[i]
      const line = b.firstLine + i
      if (fields === null) {
        fields = parseRecBoleHeader(t, file)
        continue
      }
      if (t === '') continue
      const v = t.split('\t')
      if (v.length !== fields.length)
        throw new DataError(`expected ${fields.length} tab-separated values, got ${v.length}`, {
          file,
          line,
          field: fields[Math.min(v.length, fields.length - 1)].name,
        })
      onRow(v, fields, line)
      n++
    }
    tick(tracker, n)
  }
  if (fields === null) throw new DataError('empty file', { file })
  return n
}

function find(fields: Field[], names: string[]): number {
  return fields.findIndex((f) => names.includes(f.name))
}

function textOf(values: string[], fields: Field[], skip: number): string | null {
  const parts = values.filter((v, i) => i !== skip && v.trim() !== '' && fields[i].type.startsWith('token'))
  return parts.length ? parts.join(', ') : null
}

export async function readRecBole(p: string, sink: RawSink, opts: ReadOptions = {}): Promise<ReadResult> {
  const layout = recBoleLayout(p)
  if (!layout) throw new DataError('not a RecBole atomic dataset (no .inter file)', { file: p })
  let rows = 0
  const files: string[] = []
  for (const part of layout.inter) {
    let cols: number[] | null = null
    rows += await readAtomic(part.file, opts, (v, fields, line) => {
      if (!cols) {
        cols = [
          find(fields, ['user_id']),
          find(fields, ['item_id']),
          find(fields, ['rating']),
          find(fields, ['timestamp']),
          find(fields, ['review', 'text', 'review_text']),
        ]
        if (cols[0] < 0)
          throw new DataError('no user_id column', { file: part.file, line: 1, field: 'user_id' })
        if (cols[1] < 0)
          throw new DataError('no item_id column', { file: part.file, line: 1, field: 'item_id' })
      }
      const [cu, ci, cr, ct, cx] = cols
      const num = (c: number): number | undefined => {
        if (c < 0 || v[c] === '') return undefined
        const x = Number(v[c])
        if (!Number.isFinite(x))
          throw new DataError(`not a number: '${v[c].slice(0, 40)}'`, {
            file: part.file,
            line,
            field: fields[c].name,
          })
        return x
      }
      if (v[cu] === '') throw new DataError('empty user id', { file: part.file, line, field: 'user_id' })
      if (v[ci] === '') throw new DataError('empty item id', { file: part.file, line, field: 'item_id' })
      sink.add(v[cu], v[ci], num(cr), num(ct), cx >= 0 ? v[cx] : undefined, part.split)
    })
    files.push(part.file)
  }
  if (rows === 0) throw new DataError('no interactions', { file: layout.inter[0].file })
  for (const [kind, file] of [
    ['item', layout.item],
    ['user', layout.user],
  ] as const) {
    if (!file) continue
    await readAtomic(file, opts, (v, fields, line) => {
      const id = find(fields, [`${kind}_id`])
      if (id < 0) throw new DataError(`no ${kind}_id column`, { file, line: 1, field: `${kind}_id` })
      const t = textOf(v, fields, id)
      if (t === null) return
      if (kind === 'item') sink.setItemText(v[id], t)
      else sink.setUserText(v[id], t)
      void line
    })
    files.push(file)
  }
  return { format: 'recbole', files, rows }
}
