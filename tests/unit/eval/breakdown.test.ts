// Recall@20 by history length and hit@20 by item popularity on a hand-made 30-item dataset with two
// fixed rankings (ascending and descending item index), every figure worked out by hand.
import { describe, expect, it } from 'vitest'
import type { RecDataset } from '../../../main/data/types'
import {
  breakdown,
  groupLabels,
  groupOf,
  HISTORY_EDGES,
  POPULARITY_EDGES,
} from '../../../main/engine/eval/breakdown'
import type { Scorer } from '../../../main/engine/eval/evaluate'

const J = 30
function data(): RecDataset {
  return {
    name: 'hand',
    synthetic: true,
    userIds: ['u0', 'u1', 'u2', 'u3', 'u4', 'u5'],
    itemIds: Array.from({ length: J }, (_, j) => `i${j}`),
    // training popularity: items 0, 1, 2, 4, 5, 6 three each; 3 and 7–9 one; 10+ none
    train: [
      [0],
      [0, 1, 2, 3],
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].filter((j) => j !== 3),
      [1, 2],
      [4, 5, 6],
      [4, 5, 6],
    ],
    val: [[], [], [], [3], [], []],
    test: [[25], [5], [10, 29], [4, 28], [], []],
    reviews: [],
    itemTexts: new Array(J).fill(null),
    userTexts: new Array(6).fill(null),
    splitProtocol: 'hand-made',
    hash: 'hand',
  }
}

/** Every user ranks items by index, ascending (up) or descending. */
function ranking(up: boolean): Scorer {
  return {
    scoreUsers: (users) => {
      const s = new Float32Array(users.length * J)
      for (let r = 0; r < users.length; r++) for (let j = 0; j < J; j++) s[r * J + j] = up ? -j : j
      return s
    },
  }
}

describe('breakdown', () => {
  it('labels and finds groups from their lower edges', () => {
    expect(groupLabels(HISTORY_EDGES)).toEqual(['1–3', '4–5', '6–9', '10–19', '20+'])
    expect(groupLabels(POPULARITY_EDGES)).toEqual(['0–2', '3–5', '6–10', '11–20', '21–50', '51+'])
    expect([0, 1, 3, 4, 9, 10, 19, 20, 500].map((v) => groupOf(HISTORY_EDGES, v))).toEqual([
      0, 0, 0, 1, 2, 3, 3, 4, 4,
    ])
  })

  it('gives each model its Recall@20 per history group and hit@20 per popularity group', async () => {
    const rows = await breakdown(
      [
        { name: 'up', scorer: ranking(true) },
        { name: 'down', scorer: ranking(false) },
      ],
      data(),
      'test',
    )
    const get = (axis: string, group: string) => rows.find((r) => r.axis === axis && r.group === group)!
    // Users 4 and 5 have no test item and are not counted. Ascending: user 0 misses 25 (top 20 = 1–20);
    // user 1 hits 5; user 2 (9 training items: 0–2, 4–9) hits 10 but not 29 (top 20 = 3, 10–28), R 0.5;
    // user 3 (validation item 3 excluded at test) hits 4, misses 28: 0.5.
    expect(get('history', 'all')).toMatchObject({ count: 4, values: { up: (0 + 1 + 0.5 + 0.5) / 4 } })
    expect(get('history', '1–3')).toMatchObject({ count: 2, values: { up: 0.25 } })
    expect(get('history', '4–5')).toMatchObject({ count: 1, values: { up: 1 } })
    expect(get('history', '6–9')).toMatchObject({ count: 1, values: { up: 0.5 } })
    expect(get('history', '10–19').count).toBe(0)
    expect(get('history', '10–19').values.up).toBeNaN()
    // Descending (29 first): user 0 hits 25, user 1 misses 5, user 2 hits 10 and 29, user 3 hits 28 only.
    expect(get('history', '1–3').values.down).toBe(0.75)
    expect(get('history', '4–5').values.down).toBe(0)
    expect(get('history', '6–9').values.down).toBe(1)
    // Held-out items by training popularity: 25, 10, 29, 28 have none; 5 and 4 have three.
    expect(get('popularity', '0–2')).toMatchObject({ count: 4, values: { up: 0.25, down: 1 } })
    expect(get('popularity', '3–5')).toMatchObject({ count: 2, values: { up: 1, down: 0 } })
    expect(rows.filter((r) => r.axis === 'popularity').reduce((s, r) => s + r.count, 0)).toBe(6)
  })

  it('reports the users scored: 0 first, then after each batch', async () => {
    const seen: [number, number][] = []
    await breakdown([{ name: 'up', scorer: ranking(true) }], data(), 'test', {
      batchSize: 3,
      onProgress: (done, total) => seen.push([done, total]),
    })
    expect(seen).toEqual([
      [0, 4],
      [3, 4],
      [4, 4],
    ])
  })

  it('uses the validation targets, with only training items excluded, for the val split', async () => {
    const rows = await breakdown([{ name: 'up', scorer: ranking(true) }], data(), 'val')
    // Only user 3 has a validation item (3): top 20 of 0, 3, 4, … holds it.
    expect(rows[0]).toMatchObject({ axis: 'history', group: 'all', count: 1, values: { up: 1 } })
  })
})
