// Bad input: every failure names file / line / field where there is one and leaves the database exactly
// as it was (checked with a digest of all rows in a real SQLite file that already holds a dataset).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fs from 'node:fs'
import path from 'node:path'
import { openStore, type Store } from '../../../main/store/db'
import { importDataset } from '../../../main/store/import-dataset'
import { listDatasets, loadDataset } from '../../../main/store/datasets-repo'
import { readLineBatches } from '../../../main/data/line-reader'
import { tempDir } from '../../unit/data/helpers'
import { dbSnapshot } from './db-snapshot'

const t = tempDir('cllm4rec-bad-')
let store: Store
let before: string

beforeAll(async () => {
  store = openStore(path.join(t.dir, 'wb.db'))
  await importDataset(store, {
    path: t.file('seed.tsv', 'user\titem\trating\n1\t1\t5\n1\t2\t4\n2\t1\t3\n'),
    name: 'seed',
  })
  before = dbSnapshot(store)
})
afterAll(() => {
  store.close()
  t.cleanup()
})

async function expectRejected(p: string, pattern: RegExp, opts: Record<string, unknown> = {}): Promise<void> {
  await expect(importDataset(store, { path: p, ...opts })).rejects.toThrow(pattern)
  expect(dbSnapshot(store)).toBe(before)
}

const review = (u: string, i: string, extra = '') =>
  `{"reviewerID": "${u}", "asin": "${i}", "overall": 5.0, "unixReviewTime": 1400000000, "reviewText": "ok"${extra}}`

describe('bad input leaves the database untouched', () => {
  it('malformed JSON line', async () => {
    const f = t.file(
      'bad.jsonl',
      [review('a', 'x'), review('b', 'x'), '{"reviewerID": "c", "asin": ', review('d', 'y')].join('\n'),
    )
    await expectRejected(f, /bad\.jsonl, line 3: malformed JSON/, { format: 'amazon' })
  })

  it('missing JSON field and a non-numeric rating', async () => {
    const f = t.file('nofield.jsonl', [review('a', 'x'), '{"asin": "x", "overall": 5}'].join('\n'))
    await expectRejected(f, /nofield\.jsonl, line 2, field 'reviewerID': missing reviewerID \/ user_id/, {
      format: 'amazon',
    })
    const g = t.file(
      'badrating.jsonl',
      [review('a', 'x'), '{"reviewerID": "b", "asin": "x", "overall": "lots"}'].join('\n'),
    )
    await expectRejected(g, /badrating\.jsonl, line 2, field 'overall': not a number/, { format: 'amazon' })
  })

  it('wrong and missing columns', async () => {
    const short = t.file('short.csv', 'user,item,rating\nu1,i1,5\nu2,i2,4\nu3\n')
    await expectRejected(short, /short\.csv, line 4, field 'item': expected at least 3 columns, got 1/)
    const nomap = t.file('nouser.csv', 'who,what,rating\nu1,i1,5\nu2,i2,4\n')
    await expectRejected(nomap, /nouser\.csv, line 1, field 'user': missing column for 'user'/)
    await expectRejected(nomap, /nouser\.csv, line 1, field 'rating': no column named 'stars'/, {
      map: { user: 'who', item: 'what', rating: 'stars' },
    })
    const ml = path.join(t.dir, 'ml')
    t.file('ml/u.data', '1\t2\t5\t100\n1\t3\n')
    await expectRejected(ml, /u\.data, line 2, field 'rating': expected 4 fields/)
  })

  it('empty file', async () => {
    await expectRejected(t.file('empty.csv', ''), /empty\.csv: empty file/)
    await expectRejected(t.file('blank.jsonl', '\n\n'), /blank\.jsonl: empty file/, { format: 'amazon' })
    await expectRejected(
      t.file('header-only.csv', 'user,item\n'),
      /header-only\.csv: empty file: no data rows/,
    )
  })

  it('binary garbage, plain and behind a gzip header', async () => {
    const garbage = Buffer.alloc(4096)
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 2654435761) >>> 24
    await expectRejected(t.file('garbage.bin', garbage), /garbage\.bin, line \d+: binary data/)
    const fakeGz = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), garbage])
    await expectRejected(t.file('garbage.json.gz', fakeGz), /garbage\.json\.gz: truncated or corrupt gzip/, {
      format: 'amazon',
    })
  })

  it('truncated .gz', async () => {
    const real = fs.readFileSync(
      path.resolve(__dirname, '../../../../shared/data/amazon-all-beauty-2018/original/All_Beauty_5.json.gz'),
    )
    const f = t.file('All_Beauty_cut.json.gz', real.subarray(0, Math.floor(real.length / 2)))
    await expectRejected(f, /All_Beauty_cut\.json\.gz: truncated or corrupt gzip data after line \d+/)
  })

  it('invalid UTF-8 in a UTF-8 file names the line', async () => {
    const f = t.file(
      'latin.csv',
      Buffer.concat([
        Buffer.from('user,item,text\nu1,i1,fine\nu2,i2,caf'),
        Buffer.from([0xe9]),
        Buffer.from('\n'),
      ]),
    )
    await expectRejected(f, /latin\.csv, line 3: invalid UTF-8 byte sequence/)
  })

  it('a 50 MB single line is rejected at the 16 MiB limit without reading the whole file', async () => {
    const f = path.join(t.dir, 'oneline.jsonl')
    const fd = fs.openSync(f, 'w')
    const block = Buffer.alloc(1 << 20, 0x61)
    fs.writeSync(fd, '{"reviewerID": "')
    for (let i = 0; i < 50; i++) fs.writeSync(fd, block)
    fs.closeSync(fd)
    await expectRejected(f, /oneline\.jsonl, line 1: line longer than the 16384 KiB limit/, {
      format: 'amazon',
    })
    let maxBytes = 0
    const read = async () => {
      for await (const _ of readLineBatches(f, { onBytes: (b) => (maxBytes = Math.max(maxBytes, b)) })) void _
    }
    await expect(read()).rejects.toThrow(/line 1: line longer/)
    expect(maxBytes).toBeLessThan(20 * (1 << 20))
  })

  it('numeric JSON ids beyond 2^53 are an error naming the field; string ids of any size are kept', async () => {
    const f = t.file('bigid.jsonl', `{"reviewerID": 12345678901234567890, "asin": "x", "overall": 5}\n`)
    await expectRejected(f, /bigid\.jsonl, line 1, field 'reviewerID': numeric id .* is not a safe integer/, {
      format: 'amazon',
    })
    const g = t.file(
      'bigid.tsv',
      'user\titem\n9007199254740993\t1\n9007199254740992\t1\n9007199254740993\t2\n',
    )
    const r = await importDataset(store, { path: g, name: 'bigids', split: [1, 0, 0] })
    expect(loadDataset(store, 'bigids').userIds).toEqual(['9007199254740992', '9007199254740993'])
    expect(r.stats.interactions.total).toBe(3)
    store.db.prepare('DELETE FROM datasets WHERE id = ?').run(r.datasetId)
    expect(dbSnapshot(store)).toBe(before)
  })

  it('a file that vanishes mid-import', async () => {
    const lines = Array.from({ length: 300_000 }, (_, i) => `u${i % 5000}\ti${i % 777}\t${(i % 5) + 1}`)
    const f = t.file('vanishing.tsv', 'user\titem\trating\n' + lines.join('\n') + '\n')
    let removed = false
    const onProgress = () => {
      if (!removed && fs.existsSync(f)) {
        fs.unlinkSync(f)
        removed = true
      }
    }
    await expectRejected(f, /vanishing\.tsv: file vanished during import/, { onProgress })
    expect(removed).toBe(true)
  })

  it('the same file twice is refused, naming the existing dataset', async () => {
    const f = path.join(t.dir, 'seed.tsv')
    await expectRejected(f, /seed\.tsv: this file was already imported as dataset 'seed' \(id 1\)/)
    const copy = t.file('copy/seed.tsv', fs.readFileSync(f))
    await expectRejected(copy, /already imported as dataset 'seed'/, { name: 'other' })
  })

  it('an explicit name that is taken, and a cancelled import', async () => {
    const f = t.file('fresh.tsv', 'user\titem\na\tb\nc\td\n')
    await expectRejected(f, /a dataset named 'seed' already exists/, { name: 'seed' })
    const ac = new AbortController()
    ac.abort()
    await expectRejected(f, /cancelled/, { signal: ac.signal })
  })
})

describe('duplicates are counted and reported, not fatal', () => {
  it('stores the duplicate counts with the dataset', async () => {
    const f = t.file(
      'dups.csv',
      'user,item,rating,timestamp\na,x,5,1\na,x,3,2\na,x,4,3\nb,x,5,1\nb,y,5,1\nb,y,5,1\n',
    )
    const r = await importDataset(store, { path: f, name: 'dups' })
    expect(r.report).toMatchObject({ rawRows: 6, duplicateRows: 3, duplicatePairs: 2, keptRows: 3 })
    const row = listDatasets(store).find((d) => d.name === 'dups')!
    expect(row.stats.preprocessing?.duplicateRows).toBe(3)
    const ratings = store.db
      .prepare('SELECT rating FROM interactions WHERE dataset_id = ? ORDER BY user_idx, item_idx')
      .pluck()
      .all(r.datasetId)
    expect(ratings).toEqual([4, 5, 5]) // a-x keeps its latest record (ts 3, rating 4)
  })
})
