import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { readCllm4recSplit } from '../../../main/data/cllm4rec-split'
import { generateDemoDataset } from '../../../main/data/demo'

describe('demo dataset', () => {
  it('is deterministic per seed, labelled synthetic, with disjoint per-user splits', () => {
    const a = generateDemoDataset({ seed: 5, users: 50, items: 30 })
    const b = generateDemoDataset({ seed: 5, users: 50, items: 30 })
    const c = generateDemoDataset({ seed: 6, users: 50, items: 30 })
    expect(a).toEqual(b)
    expect(a.hash).not.toBe(c.hash)
    expect(a.synthetic).toBe(true)
    expect(a.name).toBe('demo (synthetic)')
    a.train.forEach((tr, u) => {
      const all = [...tr, ...a.val[u], ...a.test[u]]
      expect(new Set(all).size).toBe(all.length)
      expect(a.test[u].length).toBeGreaterThanOrEqual(1)
    })
    expect(a.reviews.every((r) => a.train[r.user].includes(r.item))).toBe(true)
  })
})

describe('CLLM4Rec split reader', () => {
  it('reads TSVs, meta and item tags; names file, line and field on bad input', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'split-'))
    try {
      fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ num_users: 2, num_items: 3 }))
      fs.writeFileSync(path.join(dir, 'train.tsv'), 'user_id\titem_id\n0\t2\n0\t1\n1\t0\n')
      fs.writeFileSync(path.join(dir, 'val.tsv'), 'user_id\titem_id\n0\t0\n')
      fs.writeFileSync(path.join(dir, 'test.tsv'), 'user_id\titem_id\n1\t2\n')
      fs.writeFileSync(path.join(dir, 'items.jsonl'), '{"item_id": 1, "tags": ["Beauty", "Face"]}\n')
      const d = readCllm4recSplit(dir, 'mini')
      expect(d.train).toEqual([[1, 2], [0]])
      expect(d.val).toEqual([[0], []])
      expect(d.test).toEqual([[], [2]])
      expect(d.itemTexts).toEqual([null, 'Beauty, Face', null])
      expect(d.synthetic).toBe(false)
      fs.writeFileSync(path.join(dir, 'test.tsv'), 'user_id\titem_id\n1\t7\n')
      expect(() => readCllm4recSplit(dir)).toThrow(/test.tsv:2: field item_id "7"/)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
