import { describe, expect, it } from 'vitest'
import { Ease, gramMatrix } from '../../../main/engine/baselines/ease'
import { Popularity } from '../../../main/engine/baselines/popularity'
import { spdInverse } from '../../../main/engine/baselines/spd-inverse'
import { generateDemoDataset } from '../../../main/data/demo'
import { randomSpd } from './spd-fixture'

describe('spdInverse', () => {
  it.each([1, 5, 64, 67, 150])('A·A⁻¹ = I for n = %i (padding and block edges)', (n) => {
    const A = randomSpd(n, 11 + n)
    const P = spdInverse(A, n, { native: false })
    let err = 0
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let v = 0
        for (let k = 0; k < n; k++) v += A[i * n + k] * P[k * n + j]
        err = Math.max(err, Math.abs(v - (i === j ? 1 : 0)))
      }
    expect(err).toBeLessThan(1e-9)
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(P[i * n + j]).toBe(P[j * n + i])
  })

  it('rejects a matrix that is not positive definite, naming the pivot', () => {
    for (const native of [false, true])
      expect(() => spdInverse(Float64Array.from([1, 2, 2, 1]), 2, { native })).toThrow(
        /not positive definite \(pivot 1/,
      )
  })
})

describe('EASE', () => {
  it('matches the closed form on a hand-sized example', () => {
    const data = generateDemoDataset({ seed: 3, users: 20, items: 18, perUser: 5, groups: 3 })
    const J = 18
    const lambda = 2
    const G = gramMatrix(data)
    const e = Ease.fit(data, lambda)
    // Optimality of min ||X − XB||² + λ||B||² s.t. diag(B) = 0: the Lagrangian gives
    // (G + λI)·B − G + diag(μ) = 0, so ((G + λI)·B)_{ij} = G_{ij} for every i ≠ j.
    for (let i = 0; i < J; i++)
      for (let j = 0; j < J; j++) {
        if (i === j) {
          expect(e.B[i * J + j]).toBe(0)
          continue
        }
        let v = 0
        for (let k = 0; k < J; k++) v += (G[i * J + k] + (i === k ? lambda : 0)) * e.B[k * J + j]
        expect(v).toBeCloseTo(G[i * J + j], 3)
      }
  })

  it('popularity gives every user the same training counts', () => {
    const data = generateDemoDataset({ seed: 3, users: 20, items: 18, perUser: 5, groups: 3 })
    const s = new Popularity(data).scoreUsers([0, 5])
    const counts = new Array(18).fill(0)
    data.train.flat().forEach((j) => counts[j]++)
    expect(Array.from(s.slice(0, 18))).toEqual(counts)
    expect(Array.from(s.slice(18))).toEqual(counts)
  })
})
