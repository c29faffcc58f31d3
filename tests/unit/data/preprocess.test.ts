import { describe, expect, it } from 'vitest'
import { RawData, SPLIT_TEST, SPLIT_TRAIN, SPLIT_VAL, canonicalIdOrder } from '../../../main/data/raw'
import { preprocess } from '../../../main/data/preprocess'
import { computeStats } from '../../../main/data/stats'
import { mulberry32 } from '../../../main/data/prng'

function raw(rows: [string, string, number?, number?, string?][]): RawData {
  const r = new RawData()
  for (const [u, i, rating, ts, text] of rows) r.add(u, i, rating, ts, text)
  return r
}

describe('dedup and threshold', () => {
  const rows: [string, string, number?, number?, string?][] = [
    ['u1', 'a', 5, 10, 'old'],
    ['u1', 'a', 2, 30, 'new'],
    ['u1', 'a', 4, 20, 'mid'],
    ['u1', 'b', 5, 5],
    ['u2', 'a', 3, 1],
  ]
  it('keeps the latest record of a repeated pair and counts duplicates', () => {
    const { dataset, report, values } = preprocess(raw(rows), { name: 't', split: [1, 0, 0] })
    expect(report).toMatchObject({ rawRows: 5, duplicateRows: 2, duplicatePairs: 1, keptRows: 3 })
    expect(dataset.reviews).toEqual([{ user: 0, item: 0, text: 'new' }])
    expect(Array.from(values.ratings)).toEqual([2, 5, 3])
  })
  it("keeps the first record with dedup 'first', then applies the rating threshold", () => {
    const first = preprocess(raw(rows), { name: 't', split: [1, 0, 0], dedup: 'first' })
    expect(first.dataset.reviews[0].text).toBe('old')
    // latest u1-a has rating 2 -> dropped by min-rating 4; first has 5 -> kept
    const latest = preprocess(raw(rows), { name: 't', split: [1, 0, 0], minRating: 4 })
    expect(latest.report.belowThreshold).toBe(2)
    expect(latest.dataset.userIds).toEqual(['u1'])
    expect(latest.dataset.itemIds).toEqual(['b'])
    const kept = preprocess(raw(rows), { name: 't', split: [1, 0, 0], minRating: 4, dedup: 'first' })
    expect(kept.dataset.train).toEqual([[0, 1]])
  })
})

describe('k-core', () => {
  it('iterates to a fixed point', () => {
    // 2-core: item z has one user (u3) -> removed; then u3 has one item -> removed; then item y drops to
    // one user -> removed; a second round is needed for each of these cascades.
    const r = raw([
      ['u1', 'x'],
      ['u1', 'w'],
      ['u2', 'x'],
      ['u2', 'w'],
      ['u3', 'y'],
      ['u3', 'z'],
      ['u4', 'y'],
    ] as [string, string][])
    const { dataset, report } = preprocess(r, { name: 'k', kcore: 2, split: [1, 0, 0] })
    expect(dataset.userIds).toEqual(['u1', 'u2'])
    expect(dataset.itemIds).toEqual(['w', 'x'])
    expect(report.kcoreRemoved).toBe(3)
    expect(report.kcoreIterations).toBeGreaterThanOrEqual(3)
    for (const l of dataset.train) expect(l.length).toBeGreaterThanOrEqual(2)
  })
  it('fails clearly when nothing survives', () => {
    expect(() => preprocess(raw([['u', 'i']]), { name: 'k', kcore: 5 })).toThrow(
      /no interactions left after filtering/,
    )
  })
})

describe('per-user split', () => {
  const many = () => {
    const r = new RawData()
    const sizes = [1, 2, 3, 9, 10, 19, 20, 35]
    sizes.forEach((n, u) => {
      for (let i = 0; i < n; i++) r.add(`u${u}`, `i${(i * 7 + u) % 40}`)
    })
    return { r, sizes }
  }
  it('follows the documented rule: val/test = max(1, floor(n*ratio)), < 3 items all in train', () => {
    const { r, sizes } = many()
    const { dataset } = preprocess(r, { name: 's', split: [0.8, 0.1, 0.1], seed: 7 })
    sizes.forEach((n, u) => {
      const expectVT = n < 3 ? 0 : Math.max(1, Math.floor(n * 0.1))
      expect([dataset.val[u].length, dataset.test[u].length]).toEqual([expectVT, expectVT])
      expect(dataset.train[u].length).toBe(n - 2 * expectVT)
      const all = [...dataset.train[u], ...dataset.val[u], ...dataset.test[u]]
      expect(new Set(all).size).toBe(n)
    })
    expect(dataset.splitProtocol).toMatch(/per-user random 80\/10\/10, seed 7/)
  })
  it('is reproducible for a seed and changes with the seed', () => {
    const a = preprocess(many().r, { name: 's', seed: 1 }).dataset
    const b = preprocess(many().r, { name: 's', seed: 1 }).dataset
    const c = preprocess(many().r, { name: 's', seed: 2 }).dataset
    expect(b.hash).toBe(a.hash)
    expect(b.test).toEqual(a.test)
    expect(c.hash).not.toBe(a.hash)
  })
  it('keeps a provided split as is', () => {
    const r = new RawData()
    r.add('0', '0', 1, undefined, undefined, SPLIT_TRAIN)
    r.add('0', '1', 1, undefined, undefined, SPLIT_VAL)
    r.add('0', '2', 1, undefined, undefined, SPLIT_TEST)
    r.declareUsers(['0', '1'])
    r.declareItems(['0', '1', '2', '3'])
    const { dataset } = preprocess(r, { name: 'p' })
    expect([dataset.train, dataset.val, dataset.test]).toEqual([
      [[0], []],
      [[1], []],
      [[2], []],
    ])
    expect(dataset.itemIds).toEqual(['0', '1', '2', '3'])
    expect(dataset.splitProtocol).toMatch(/provided/)
  })
  it('rejects bad ratios', () => {
    expect(() => preprocess(many().r, { name: 's', split: [0.5, 0.1, 0.1] })).toThrow(/sum to 1/)
  })
})

describe('ids and hash', () => {
  it('orders ids canonically (numeric when all numeric, any size) so row order does not matter', () => {
    expect(canonicalIdOrder(['10', '9', '100']).map((i) => ['10', '9', '100'][i])).toEqual(['9', '10', '100'])
    expect(canonicalIdOrder(['b', 'a', '10']).map((i) => ['b', 'a', '10'][i])).toEqual(['10', 'a', 'b'])
    const rows: [string, string][] = []
    for (let u = 0; u < 30; u++) for (let i = 0; i < 8; i++) rows.push([`${u}`, `${(u * 3 + i) % 17}`])
    const shuffled = [...rows]
    const rand = mulberry32(3)
    shuffled.sort(() => rand() - 0.5)
    expect(preprocess(raw(shuffled), { name: 'a' }).dataset.hash).toBe(
      preprocess(raw(rows), { name: 'b' }).dataset.hash,
    )
  })
  it('keeps ids beyond 2^53 as distinct strings', () => {
    const big1 = '9007199254740993'
    const big2 = '9007199254740992' // equal to big1 once converted to a JS number
    expect(Number(big1)).toBe(Number(big2))
    const { dataset } = preprocess(
      raw([
        [big1, 'x'],
        [big2, 'x'],
        ['123456789012345678901234567890', 'y'],
      ]),
      { name: 'b', split: [1, 0, 0] },
    )
    expect(dataset.userIds).toEqual([big2, big1, '123456789012345678901234567890'])
  })
})

describe('stats', () => {
  it('counts splits, density, degrees, and text coverage', () => {
    const r = raw([
      ['u1', 'a', 5, 1, 'nice'],
      ['u1', 'b'],
      ['u2', 'a', 1, 2, 'nice'],
    ])
    r.setItemText('a', 'Item A')
    const { dataset, report } = preprocess(r, { name: 's', split: [1, 0, 0] })
    const s = computeStats(dataset, report)
    expect(s.interactions).toEqual({ train: 3, val: 0, test: 0, total: 3 })
    expect(s.density).toBeCloseTo(3 / 4)
    expect(s.userDegree).toMatchObject({ min: 1, max: 2, mean: 1.5 })
    expect(s.itemDegree.histogram.counts.slice(0, 3)).toEqual([0, 1, 1])
    expect(s.text.reviews).toMatchObject({ count: 2, distinct: 1, meanChars: 4 })
    expect(s.text.itemTexts.coverage).toBe(0.5)
    expect(s.hash).toBe(dataset.hash)
  })
})
