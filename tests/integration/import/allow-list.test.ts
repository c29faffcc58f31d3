// The --data allow-list holds for every file an import reads: a sibling that is a symbolic link to a
// file outside the allowed folder is refused, naming it, and nothing is stored.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStore, type Store } from '../../../main/store/db'
import { importDataset } from '../../../main/store/import-dataset'
import { previewFile } from '../../../main/data/import-source'
import { tempDir } from '../../unit/data/helpers'
import { csrMembers, metaPickle, zip } from '../../unit/data/hostile-fixtures'
import { dbSnapshot } from './db-snapshot'

const t = tempDir('cllm4rec-allow-')
const allowed = path.join(t.dir, 'allowed')
const outside = path.join(t.dir, 'outside')
let store: Store
let before: string

const flags = (n: number) =>
  new Array(19)
    .fill(0)
    .map((_, i) => (i === n ? 1 : 0))
    .join('|')

beforeAll(() => {
  store = openStore(path.join(t.dir, 'wb.db'))
  before = dbSnapshot(store)
  // Outside the allow-list: files an attacker wants read.
  t.file('outside/secret.npz', zip(csrMembers()))
  t.file('outside/u.item', `1|Secret|01-Jan-1995||x|${flags(1)}\n2|Other|01-Jan-1995||x|${flags(2)}\n`)
  t.file('outside/tag_to_item.json', JSON.stringify({ 0: [0, 1] }))
  // CLLM4Rec npz layout: meta.pkl real, train_matrix.npz a link out.
  t.file('allowed/npz/meta.pkl', metaPickle(2, 3))
  fs.symlinkSync(path.join(outside, 'secret.npz'), path.join(allowed, 'npz/train_matrix.npz'))
  t.file('allowed/npz/val_matrix.npz', zip(csrMembers()))
  t.file('allowed/npz/test_matrix.npz', zip(csrMembers()))
  // Same layout with the tag files: id_to_tag.json real, tag_to_item.json a link out.
  for (const s of ['train', 'val', 'test']) t.file(`allowed/tags/${s}_matrix.npz`, zip(csrMembers()))
  t.file('allowed/tags/meta.pkl', metaPickle(2, 3))
  t.file('allowed/tags/id_to_tag.json', JSON.stringify({ 0: 'tag' }))
  fs.symlinkSync(path.join(outside, 'tag_to_item.json'), path.join(allowed, 'tags/tag_to_item.json'))
  // MovieLens 100K: u.data real, u.item a link out.
  t.file('allowed/ml/u.data', '1\t1\t5\t100\n1\t2\t4\t101\n2\t1\t3\t102\n')
  fs.symlinkSync(path.join(outside, 'u.item'), path.join(allowed, 'ml/u.item'))
})
afterAll(() => {
  store.close()
  t.cleanup()
})

async function refused(p: string, linked: string, format: 'cllm4rec' | 'movielens'): Promise<void> {
  await expect(importDataset(store, { path: p, format, allowedRoots: [allowed] })).rejects.toThrow(
    `${linked}: resolves to a file outside the allowed data folders (a symbolic link?)`,
  )
  expect(dbSnapshot(store)).toBe(before)
}

describe('allow-list through symbolic links', () => {
  it('a train_matrix.npz beside an allowed meta.pkl', async () => {
    await refused(path.join(allowed, 'npz/meta.pkl'), path.join(allowed, 'npz/train_matrix.npz'), 'cllm4rec')
  })

  it('a tag_to_item.json beside allowed splits', async () => {
    await refused(path.join(allowed, 'tags'), path.join(allowed, 'tags/tag_to_item.json'), 'cllm4rec')
  })

  it('a MovieLens u.item, for import and preview', async () => {
    await refused(path.join(allowed, 'ml/u.data'), path.join(allowed, 'ml/u.item'), 'movielens')
    // The preview stops after 10 rows of u.data, so it never needs u.item; the file itself is checked.
    await expect(
      previewFile(path.join(allowed, 'ml/u.item'), 10, { format: 'csv', allowedRoots: [allowed] }),
    ).rejects.toThrow(/u\.item: resolves to a file outside the allowed data folders/)
  })

  it('without an allow-list (a file picked in the desktop dialog) the same folder imports', async () => {
    const r = await importDataset(store, {
      path: path.join(allowed, 'ml/u.data'),
      format: 'movielens',
      name: 'ml',
    })
    expect(r.stats.users).toBe(2)
  })
})
