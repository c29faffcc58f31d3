import { describe, expect, it } from 'vitest'
import { evaluate } from '../../../main/engine/eval/evaluate'
import { hitVector, MetricAccumulator, ndcgAtK, recallAtK } from '../../../main/engine/eval/metrics'
import { topKRow } from '../../../main/engine/eval/topk'
import type { RecDataset } from '../../../main/data/types'

describe('ranking metrics (hand-worked)', () => {
  it('recall divides by min(K, |relevant|)', () => {
    // ranked [5, 1, 7, 3], relevant {1, 3, 9}: hits at ranks 2 and 4.
    const hits = hitVector([5, 1, 7, 3], new Set([1, 3, 9]))
    expect(Array.from(hits)).toEqual([0, 1, 0, 1])
    expect(recallAtK(hits, 3, 2)).toBeCloseTo(1 / 2) // 1 hit in top-2, min(2, 3) = 2
    expect(recallAtK(hits, 3, 4)).toBeCloseTo(2 / 3)
  })

  it('NDCG uses IDCG over min(K, |relevant|)', () => {
    const hits = [0, 1, 0, 1]
    // DCG = 1/log2(3) + 1/log2(5) = 0.63093 + 0.43068; IDCG(3 relevant, K=4) = 1 + 0.63093 + 0.5
    expect(ndcgAtK(hits, 3, 4)).toBeCloseTo((0.6309298 + 0.4306766) / (1 + 0.6309298 + 0.5), 6)
    // K = 2: DCG = 0.63093, IDCG = 1 + 0.63093
    expect(ndcgAtK(hits, 3, 2)).toBeCloseTo(0.6309298 / 1.6309298, 6)
    expect(ndcgAtK([1, 1, 0], 2, 3)).toBeCloseTo(1)
  })

  it('rejects users without relevant items', () => {
    expect(() => recallAtK([1], 0, 20)).toThrow(/nRelevant/)
  })

  it('accumulates the paper metrics', () => {
    const acc = new MetricAccumulator()
    acc.add([0, 1], new Set([0]))
    acc.add([0, 1], new Set([1]))
    const r = acc.result()
    expect(r.users).toBe(2)
    expect(r.recall20).toBeCloseTo(1)
    expect(r.ndcg100).toBeCloseTo((1 + 0.6309298) / 2, 6)
  })
})

describe('top-K selection', () => {
  it('returns the K best, best first, skipping excluded items, ties by lower id', () => {
    const s = Float32Array.from([0.1, 0.9, 0.5, 0.9, 0.3, 0.7])
    expect(Array.from(topKRow(s, 0, 6, 3))).toEqual([1, 3, 5])
    expect(Array.from(topKRow(s, 0, 6, 3, new Set([1])))).toEqual([3, 5, 2])
    expect(Array.from(topKRow(s, 0, 6, 10))).toEqual([1, 3, 5, 2, 4, 0])
  })

  it('matches a full sort on random rows', () => {
    let x = 7
    const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648
    const s = Float32Array.from({ length: 500 }, rnd)
    const ex = new Set([3, 10, 77])
    const want = [...s.keys()]
      .filter((j) => !ex.has(j))
      .sort((a, b) => s[b] - s[a] || a - b)
      .slice(0, 40)
    expect(Array.from(topKRow(s, 0, 500, 40, ex))).toEqual(want)
  })
})

describe('evaluate', () => {
  const data: RecDataset = {
    name: 't',
    synthetic: true,
    userIds: ['a', 'b', 'c'],
    itemIds: ['0', '1', '2', '3'],
    train: [[0], [1], [2]],
    val: [[1], [2], []],
    test: [[2], [], [3]],
    reviews: [],
    itemTexts: [null, null, null, null],
    userTexts: [null, null, null],
    splitProtocol: 'hand-made',
    hash: 'x',
  }
  // Scores favour item 0, then 1, 2, 3 for everyone.
  const scorer = { scoreUsers: (users: number[]) => new Float32Array(users.flatMap(() => [4, 3, 2, 1])) }

  it('excludes training items, and validation items at test time; skips users without targets', async () => {
    const test = await evaluate(scorer, data, 'test')
    // user a: exclude {0, 1} -> ranking [2, 3], test {2}: hit at rank 1. user c: exclude {2} -> [0, 1, 3], test {3} rank 3.
    expect(test.users).toBe(2)
    expect(test.ndcg100).toBeCloseTo((1 + 1 / Math.log2(4)) / 2, 6)
    const val = await evaluate(scorer, data, 'val')
    // user a: exclude {0} -> [1, 2, 3], val {1} rank 1; user b: exclude {1} -> [0, 2, 3], val {2} rank 2.
    expect(val.users).toBe(2)
    expect(val.ndcg100).toBeCloseTo((1 + 1 / Math.log2(3)) / 2, 6)
  })
})
