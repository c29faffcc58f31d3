// Light reader of a converted CLLM4Rec split folder (../shared/data/amazon-cllm4rec/<name>/converted):
// train/val/test TSV (user_id, item_id), meta.json (num_users, num_items), optional items.jsonl (tags).
// Item tags become item texts ("Beauty, Face, Makeup"), usable as item-text documents (CLLM4REC.md §10).
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { RecDataset } from './types'

function readTsvPairs(file: string, nUsers: number, nItems: number): number[][] {
  if (!fs.existsSync(file)) throw new Error(`${file}: missing`)
  const lines = fs.readFileSync(file, 'utf8').split('\n')
  const header = lines[0].trim().split('\t')
  if (header[0] !== 'user_id' || header[1] !== 'item_id') {
    throw new Error(`${file}:1: header must be "user_id<TAB>item_id", got "${lines[0]}"`)
  }
  const rows: number[][] = Array.from({ length: nUsers }, () => [])
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]
    if (line.trim() === '') continue
    const [us, is] = line.split('\t')
    const u = Number(us)
    const it = Number(is)
    if (!Number.isInteger(u) || u < 0 || u >= nUsers) {
      throw new Error(`${file}:${i + 1}: field user_id "${us}" is not an integer in [0, ${nUsers})`)
    }
    if (!Number.isInteger(it) || it < 0 || it >= nItems) {
      throw new Error(`${file}:${i + 1}: field item_id "${is}" is not an integer in [0, ${nItems})`)
    }
    rows[u].push(it)
  }
  for (const r of rows) r.sort((a, b) => a - b)
  return rows
}

/** Reads `<dir>` (the converted folder, or its parent holding `converted/`) into a RecDataset. */
export function readCllm4recSplit(dir: string, name?: string): RecDataset {
  const conv = fs.existsSync(path.join(dir, 'converted', 'meta.json')) ? path.join(dir, 'converted') : dir
  const metaFile = path.join(conv, 'meta.json')
  if (!fs.existsSync(metaFile))
    throw new Error(`${metaFile}: missing (not a converted CLLM4Rec split folder)`)
  const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as Record<string, unknown>
  const nUsers = meta.num_users
  const nItems = meta.num_items
  if (!Number.isInteger(nUsers) || (nUsers as number) <= 0)
    throw new Error(`${metaFile}: field num_users invalid`)
  if (!Number.isInteger(nItems) || (nItems as number) <= 0)
    throw new Error(`${metaFile}: field num_items invalid`)
  const U = nUsers as number
  const J = nItems as number
  const train = readTsvPairs(path.join(conv, 'train.tsv'), U, J)
  const val = readTsvPairs(path.join(conv, 'val.tsv'), U, J)
  const test = readTsvPairs(path.join(conv, 'test.tsv'), U, J)
  const itemTexts: (string | null)[] = new Array(J).fill(null)
  const itemsFile = path.join(conv, 'items.jsonl')
  if (fs.existsSync(itemsFile)) {
    const lines = fs.readFileSync(itemsFile, 'utf8').split('\n')
    lines.forEach((line, i) => {
      if (line.trim() === '') return
      let rec: { item_id?: unknown; tags?: unknown }
      try {
        rec = JSON.parse(line)
      } catch {
        throw new Error(`${itemsFile}:${i + 1}: not valid JSON`)
      }
      const id = rec.item_id
      if (!Number.isInteger(id) || (id as number) < 0 || (id as number) >= J) {
        throw new Error(`${itemsFile}:${i + 1}: field item_id invalid`)
      }
      if (!Array.isArray(rec.tags)) throw new Error(`${itemsFile}:${i + 1}: field tags is not an array`)
      itemTexts[id as number] = (rec.tags as unknown[]).map((t) => String(t).replace(/\s+/g, ' ')).join(', ')
    })
  }
  const h = createHash('sha256')
  for (const part of [train, val, test]) h.update(JSON.stringify(part))
  return {
    name: name ?? path.basename(path.dirname(path.resolve(conv))),
    synthetic: false,
    userIds: Array.from({ length: U }, (_, u) => String(u)),
    itemIds: Array.from({ length: J }, (_, i) => String(i)),
    train,
    val,
    test,
    reviews: [],
    itemTexts,
    userTexts: new Array(U).fill(null),
    splitProtocol: 'provided (CLLM4Rec authors, per-user random train/val/test)',
    hash: h.digest('hex'),
  }
}
