// The counts in ../shared/data/*/README.md, reproduced by importing the real files into a real SQLite file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { openStore, type Store } from '../../../main/store/db'
import { importDataset } from '../../../main/store/import-dataset'
import { loadDataset } from '../../../main/store/datasets-repo'
import { buildDataset, detectFormat } from '../../../main/data/import-source'

const DATA = path.resolve(__dirname, '../../../../shared/data')
let dir: string
let store: Store

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cllm4rec-real-'))
  store = openStore(path.join(dir, 'wb.db'))
})
afterAll(() => {
  store.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('MovieLens-100K', () => {
  const ml = `${DATA}/movielens-100k/original/ml-100k`
  it('imports 100,000 ratings, 943 users, 1,682 items with latin-1 titles and genres', async () => {
    expect(await detectFormat(ml)).toBe('movielens')
    const r = await importDataset(store, { path: ml, name: 'ml100k' })
    expect(r.stats.users).toBe(943)
    expect(r.stats.items).toBe(1682)
    expect(r.stats.interactions.total).toBe(100_000)
    expect(r.report.duplicateRows).toBe(0)
    expect(r.stats.userDegree.min).toBe(20)
    const d = loadDataset(store, 'ml100k')
    expect(d.hash).toBe(r.hash)
    const byId = (id: string) => d.itemTexts[d.itemIds.indexOf(id)]
    expect(byId('1')).toBe("Toy Story (1995), genres: Animation, Children's, Comedy")
    expect(d.itemTexts.some((t) => t?.includes('Misérables, Les (1995)'))).toBe(true)
    expect(byId('267')).toMatch(/^unknown/)
  })
  it('keeps 55,375 ratings >= 4', async () => {
    const b = await buildDataset(ml, { minRating: 4 })
    expect(b.stats.interactions.total).toBe(55_375)
    expect(b.report.belowThreshold).toBe(100_000 - 55_375)
  })
  it('the converted TSV gives the same data as the original files', async () => {
    const a = await buildDataset(ml)
    const b = await buildDataset(`${DATA}/movielens-100k/converted/interactions.tsv`)
    expect(b.source.format).toBe('csv')
    expect(b.dataset.hash).toBe(a.dataset.hash)
  })
})

describe('Amazon All_Beauty 2018 (gzip JSON Lines)', () => {
  it('reads 5,269 records into 4,092 distinct pairs of 991 users x 85 items with review text', async () => {
    const f = `${DATA}/amazon-all-beauty-2018/original/All_Beauty_5.json.gz`
    expect(await detectFormat(f)).toBe('amazon')
    const r = await importDataset(store, { path: f, name: 'all-beauty' })
    expect(r.report.rawRows).toBe(5269)
    expect(r.report.duplicatePairs).toBe(1040)
    expect(r.report.duplicateRows).toBe(5269 - 4092)
    expect([r.stats.users, r.stats.items, r.stats.interactions.total]).toEqual([991, 85, 4092])
    // Latest record per pair, its reviewText (else summary, else a duplicate's text): every pair gets a
    // review, 1,262 distinct strings over all pairs (cross-checked with an independent Python script; the
    // README's 1,363 counts distinct texts over all 5,269 records, before dedup).
    // Only training pairs keep their review (a held-out review would leak into training).
    const d = loadDataset(store, 'all-beauty')
    const trainPairs = d.train.reduce((s, x) => s + x.length, 0)
    expect(trainPairs).toBeLessThan(4092)
    expect(r.stats.text.reviews.count).toBe(trainPairs)
    expect(r.stats.text.reviews.distinct).toBeLessThanOrEqual(1262)
    expect(d.reviews.length).toBe(r.stats.text.reviews.count)
    expect(d.hash).toBe(r.hash)
  })
})

describe('CLLM4Rec layouts: original npz/pkl and converted TSV give the same data hash', () => {
  for (const [name, users, items, train, val, test] of [
    ['beauty', 10553, 6086, 70614, 11767, 11767],
    ['sports', 22686, 12301, 137666, 24026, 24026],
  ] as const) {
    it(`${name}: ${users} x ${items}, ${train}/${val}/${test}`, async () => {
      const orig = await importDataset(store, {
        path: `${DATA}/amazon-cllm4rec/${name}/original`,
        name: `${name}-npz`,
      })
      const conv = await buildDataset(`${DATA}/amazon-cllm4rec/${name}/converted`)
      expect(orig.format).toBe('cllm4rec')
      for (const s of [orig.stats, conv.stats]) {
        expect([s.users, s.items]).toEqual([users, items])
        expect(s.interactions).toEqual({ train, val, test, total: train + val + test })
        expect(s.text.itemTexts.coverage).toBe(1)
        expect(s.usersWithTest).toBe(users)
      }
      expect(conv.dataset.hash).toBe(orig.hash)
      expect(conv.dataset.itemTexts).toEqual(loadDataset(store, `${name}-npz`).itemTexts)
      expect(orig.stats.interactions.train).toBe(train)
      expect(loadDataset(store, `${name}-npz`).splitProtocol).toMatch(/provided/)
    })
  }
})
