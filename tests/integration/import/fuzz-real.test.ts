// Fuzzing every importer with the real files in ../shared/data: seeded truncations, byte flips and
// splices of a (shortened) copy in a temp folder. Every case either imports or fails with a DataError
// naming a file of the case; a failure leaves the database exactly as it was; nothing crashes.
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStore, type Store } from '../../../main/store/db'
import { importDataset } from '../../../main/store/import-dataset'
import { deleteDataset } from '../../../main/store/datasets-repo'
import type { FormatName } from '../../../main/data/formats/common'
import { mulberry32 } from '../../../main/data/prng'
import { readZip } from '../../../main/data/formats/npz'
import { zip } from '../../unit/data/hostile-fixtures'
import { tempDir } from '../../unit/data/helpers'
import { dbSnapshot } from './db-snapshot'

const here = path.dirname(fileURLToPath(import.meta.url))
const DATA = path.resolve(here, '../../../../shared/data')
const CASES_PER_SOURCE = Number(process.env.FUZZ_CASES ?? 45)

const head = (file: string, lines: number) =>
  fs.readFileSync(file, 'utf8').split('\n').slice(0, lines).join('\n') + '\n'
const gunzipHead = (file: string, lines: number) =>
  zlib.gzipSync(
    zlib.gunzipSync(fs.readFileSync(file)).toString('utf8').split('\n').slice(0, lines).join('\n'),
  )

interface Source {
  name: string
  format: FormatName
  /** Relative file name -> bytes of the (shortened) real file. */
  files: Record<string, Buffer>
  /** What to import, relative to the case folder ('' = the folder). */
  entry: string
  opts?: Record<string, unknown>
}

function sources(): Source[] {
  const ml = path.join(DATA, 'movielens-100k/original/ml-100k')
  const bo = path.join(DATA, 'amazon-cllm4rec/beauty/original')
  const bc = path.join(DATA, 'amazon-cllm4rec/beauty/converted')
  const ab = path.join(DATA, 'amazon-all-beauty-2018')
  const raw = (f: string) => fs.readFileSync(f)
  return [
    {
      name: 'movielens',
      format: 'movielens',
      entry: '',
      files: {
        'u.data': Buffer.from(head(`${ml}/u.data`, 3000)),
        'u.item': raw(`${ml}/u.item`),
        'u.genre': raw(`${ml}/u.genre`),
      },
    },
    {
      name: 'cllm4rec-npz',
      format: 'cllm4rec',
      entry: '',
      files: Object.fromEntries(
        [
          'meta.pkl',
          'train_matrix.npz',
          'val_matrix.npz',
          'test_matrix.npz',
          'id_to_tag.json',
          'tag_to_item.json',
        ].map((f) => [f, raw(`${bo}/${f}`)]),
      ),
    },
    {
      name: 'cllm4rec-tsv',
      format: 'cllm4rec',
      entry: '',
      files: {
        'meta.json': Buffer.from(JSON.stringify({ num_users: 10553, num_items: 6086 })),
        'train.tsv': Buffer.from(head(`${bc}/train.tsv`, 2000)),
        'val.tsv': Buffer.from(head(`${bc}/val.tsv`, 400)),
        'test.tsv': Buffer.from(head(`${bc}/test.tsv`, 400)),
        'items.jsonl': Buffer.from(head(`${bc}/items.jsonl`, 300)),
      },
    },
    {
      name: 'amazon',
      format: 'amazon',
      entry: 'All_Beauty_5.json.gz',
      files: { 'All_Beauty_5.json.gz': gunzipHead(`${ab}/original/All_Beauty_5.json.gz`, 800) },
    },
    {
      name: 'csv',
      format: 'csv',
      entry: 'interactions.tsv',
      files: { 'interactions.tsv': Buffer.from(head(`${ab}/converted/interactions.tsv`, 2000)) },
    },
  ]
}

type Mutation = 'truncate' | 'flip' | 'splice'

function mutate(b: Buffer, kind: Mutation, rnd: () => number): Buffer {
  const at = (n = b.length) => Math.floor(rnd() * n)
  if (b.length === 0) return b
  if (kind === 'truncate') return b.subarray(0, at())
  const out = Buffer.from(b)
  if (kind === 'flip') {
    for (let k = 1 + at(8); k > 0; k--) out[at()] ^= 1 << at(8)
    return out
  }
  // splice: a random chunk of the file copied over another place (keeps the bytes plausible)
  const len = 1 + at(Math.min(4096, b.length))
  const from = at(b.length - len + 1)
  out.set(b.subarray(from, from + len), at(b.length - len + 1))
  return out
}

/** For a zip: mutate one member's inflated bytes and re-zip with a correct CRC (reaches the npy parser). */
function mutateMember(b: Buffer, kind: Mutation, rnd: () => number): Buffer {
  const members = [...readZip(b, 'original.npz')]
  const k = Math.floor(rnd() * members.length)
  return zip(members.map(([name, data], i) => ({ name, data: i === k ? mutate(data, kind, rnd) : data })))
}

const t = tempDir('cllm4rec-fuzz-')
let store: Store
let before: string
const tally = { cases: 0, imported: 0, clearErrors: 0 }

beforeAll(() => {
  store = openStore(path.join(t.dir, 'fuzz.db'))
  before = dbSnapshot(store)
})
afterAll(() => {
  store.close()
  t.cleanup()
  console.log(`fuzz: ${tally.cases} cases, ${tally.imported} imported, ${tally.clearErrors} clear errors`)
})

describe('fuzzing the importers with mutated real files', () => {
  for (const src of sources()) {
    it(`${src.name}: ${CASES_PER_SOURCE} mutations`, async () => {
      const rnd = mulberry32(12 + src.name.length)
      const kinds: Mutation[] = ['truncate', 'flip', 'splice']
      const names = Object.keys(src.files)
      for (let c = 0; c < CASES_PER_SOURCE; c++) {
        const dir = path.join(t.dir, `${src.name}-${c}`)
        const victim = names[Math.floor(rnd() * names.length)]
        const kind = kinds[c % 3]
        const inner = victim.endsWith('.npz') && rnd() < 0.5
        const bad = inner ? mutateMember(src.files[victim], kind, rnd) : mutate(src.files[victim], kind, rnd)
        for (const n of names) t.file(path.join(path.basename(dir), n), n === victim ? bad : src.files[n])
        const label = `${src.name} case ${c}: ${kind} ${victim}${inner ? ' (a member)' : ''}`
        tally.cases++
        try {
          const r = await importDataset(store, {
            path: path.join(dir, src.entry),
            format: src.format,
            name: `f${c}`,
          })
          tally.imported++
          deleteDataset(store, r.datasetId, { force: true })
        } catch (err) {
          const e = err as Error
          expect(e.name, `${label}: ${e.stack}`).toBe('DataError')
          expect(e.message.startsWith(dir), `${label}: ${e.message}`).toBe(true)
          tally.clearErrors++
        }
        expect(dbSnapshot(store), label).toBe(before)
        fs.rmSync(dir, { recursive: true, force: true })
      }
    })
  }
})
