// Popularity baseline: every user gets the items ranked by training interaction count.
import type { RecDataset } from '../../data/types'
import type { Scorer } from '../eval/evaluate'

export class Popularity implements Scorer {
  readonly counts: Float32Array

  constructor(data: RecDataset) {
    this.counts = new Float32Array(data.itemIds.length)
    for (const items of data.train) for (const i of items) this.counts[i]++
  }

  scoreUsers(users: number[]): Float32Array {
    const J = this.counts.length
    const out = new Float32Array(users.length * J)
    for (let r = 0; r < users.length; r++) out.set(this.counts, r * J)
    return out
  }
}
