// Hostile CLLM4Rec folders through the real import into a real SQLite file: each fails with a message
// naming file (line, field), fast, and leaves the database byte-for-byte as it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fs from 'node:fs'
import path from 'node:path'
import { openStore, type Store } from '../../../main/store/db'
import { importDataset } from '../../../main/store/import-dataset'
import { loadDataset } from '../../../main/store/datasets-repo'
import { tempDir } from '../../unit/data/helpers'
import { csrMembers, metaPickle, npyHeaderOnly, zeroBomb, zip } from '../../unit/data/hostile-fixtures'

const t = tempDir('cllm4rec-hostile-')
let store: Store
let dbFile: string
let before: Buffer

beforeAll(async () => {
  dbFile = path.join(t.dir, 'wb.db')
  store = openStore(dbFile)
  await importDataset(store, { path: t.file('seed.tsv', 'user\titem\n1\t1\n1\t2\n2\t1\n'), name: 'seed' })
  store.db.pragma('wal_checkpoint(TRUNCATE)')
  before = fs.readFileSync(dbFile)
})
afterAll(() => {
  store.close()
  t.cleanup()
})

async function expectRejected(dir: string, message: string | RegExp): Promise<void> {
  await expect(importDataset(store, { path: dir, format: 'cllm4rec' })).rejects.toThrow(message)
  store.db.pragma('wal_checkpoint(TRUNCATE)')
  expect(fs.readFileSync(dbFile).equals(before)).toBe(true)
}

/** A converted-layout folder: meta.json 20x10 and the given train rows (val/test one row each). */
function tsvFolder(name: string, train: string[], items?: string[]): string {
  const d = path.join(t.dir, name)
  t.file(`${name}/meta.json`, JSON.stringify({ num_users: 20, num_items: 10 }))
  t.file(`${name}/train.tsv`, ['user_id\titem_id', ...train, ''].join('\n'))
  t.file(`${name}/val.tsv`, 'user_id\titem_id\n0\t1\n')
  t.file(`${name}/test.tsv`, 'user_id\titem_id\n1\t2\n')
  if (items) t.file(`${name}/items.jsonl`, items.join('\n'))
  return d
}

describe('CLLM4Rec TSV ids', () => {
  it.each([
    ['0x1', 'user_id'],
    ['01', 'user_id'],
    ['1.0', 'user_id'],
    [' 2', 'user_id'],
    ['1e0', 'user_id'],
    ['+3', 'user_id'],
  ])("refuses user id '%s' naming file, line and field", async (id, field) => {
    const d = tsvFolder(`ids-${Buffer.from(id).toString('hex')}`, ['0\t0', '3\t4', `${id}\t5`])
    await expectRejected(
      d,
      `${path.join(d, 'train.tsv')}, line 4, field '${field}': '${id}' is not a canonical non-negative integer id`,
    )
  })

  it('refuses a non-canonical item id and an id outside meta.json', async () => {
    const d = tsvFolder('item-01', ['0\t0', '3\t04'])
    await expectRejected(d, /train\.tsv, line 3, field 'item_id': '04' is not a canonical/)
    const e = tsvFolder('item-big', ['0\t0', '3\t10'])
    await expectRejected(e, /train\.tsv, line 3, field 'item_id': id 10 outside 0\.\.9/)
  })

  it('canonical ids keep meta.json counts and the authors numbering', async () => {
    const d = tsvFolder('canonical', ['0\t0', '3\t4', '10\t9', '2\t5'])
    const r = await importDataset(store, { path: d, format: 'cllm4rec', name: 'canonical' })
    const ds = loadDataset(store, r.datasetId)
    expect([ds.userIds.length, ds.itemIds.length]).toEqual([20, 10])
    expect(ds.userIds.slice(0, 12)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11'])
    expect(ds.train[10]).toEqual([9])
    store.db.prepare('DELETE FROM datasets WHERE id = ?').run(r.datasetId)
    store.db.exec('VACUUM')
    store.db.pragma('wal_checkpoint(TRUNCATE)')
    before = fs.readFileSync(dbFile)
  })

  it('an items.jsonl item id outside num_items is an error, not dropped', async () => {
    const d = tsvFolder(
      'items-out',
      ['0\t0'],
      ['{"item_id": 3, "tags": ["a"]}', '{"item_id": 12, "tags": ["b"]}'],
    )
    await expectRejected(d, /items\.jsonl, line 2, field 'item_id': item id 12 outside 0\.\.9/)
  })
})

describe('CLLM4Rec npz bombs through the import', () => {
  function npzFolder(name: string, dataMember: ReturnType<typeof csrMembers>[number]): string {
    const d = path.join(t.dir, name)
    t.file(`${name}/meta.pkl`, metaPickle(2, 3))
    const bad = zip(csrMembers().map((m) => (m.name === 'data.npy' ? dataMember : m)))
    t.file(`${name}/train_matrix.npz`, bad)
    t.file(`${name}/val_matrix.npz`, zip(csrMembers()))
    t.file(`${name}/test_matrix.npz`, zip(csrMembers()))
    return d
  }
  const header = npyHeaderOnly('<f8', [134217728])
  const bomb = zeroBomb(1024, header)

  it('1 GiB declared by a 1 MB train_matrix.npz: clear error, no allocation', async () => {
    const d = npzFolder('bomb', { name: 'data.npy', deflated: bomb, size: header.length + 2 ** 30 })
    const t0 = Date.now()
    await expectRejected(d, /train_matrix\.npz, field 'data\.npy': zip member data\.npy declares \d+ bytes/)
    expect(Date.now() - t0).toBeLessThan(5000)
  })

  it('a member whose directory says 100 bytes', async () => {
    const d = npzFolder('liar', { name: 'data.npy', deflated: bomb, size: 100 })
    await expectRejected(d, /train_matrix\.npz: zip member data\.npy inflates to more than the 100 bytes/)
  })

  it('meta.pkl whose num_users is a tuple bomb: a short message, at once', async () => {
    const d = npzFolder('meta-bomb', csrMembers()[4])
    // {'num_users': t25, 'num_items': 3} with t(k+1) = (tk, tk, tk): String() of it would never end.
    const levels: number[] = []
    for (let k = 0; k < 25; k++) levels.push(0x68, k, 0x68, k, 0x87, 0x94)
    const key = (s: string) => [0x8c, s.length, ...Buffer.from(s)]
    t.file(
      'meta-bomb/meta.pkl',
      Buffer.from([
        0x80,
        4,
        0x7d,
        ...key('num_users'),
        0x29,
        0x94,
        ...levels,
        0x73,
        ...key('num_items'),
        0x4b,
        3,
        0x73,
        0x2e,
      ]),
    )
    const t0 = Date.now()
    await expectRejected(
      d,
      /meta\.pkl, field 'num_users': expected a positive integer up to 50000000, got a list of 3$/,
    )
    expect(Date.now() - t0).toBeLessThan(2000)
  })

  it('meta.pkl declaring a billion users is refused before any id is made', async () => {
    const d = npzFolder('huge-meta', csrMembers()[4])
    t.file('huge-meta/meta.pkl', metaPickle(1_000_000_000, 3))
    await expectRejected(d, /meta\.pkl, field 'num_users': expected a positive integer up to 50000000/)
  })
})
