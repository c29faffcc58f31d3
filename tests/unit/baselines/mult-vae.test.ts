import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { generateDemoDataset } from '../../../main/data/demo'
import { initBackend } from '../../../main/engine/backend'
import { MultVae, sparseInput, sparseMatMul } from '../../../main/engine/baselines/mult-vae'
import { Popularity } from '../../../main/engine/baselines/popularity'
import { evaluate } from '../../../main/engine/eval/evaluate'

beforeAll(async () => {
  await initBackend('wasm')
})

describe('Mult-VAE', () => {
  it('learns the demo tastes (beats popularity on val), is seeded, and frees its tensors', async () => {
    const data = generateDemoDataset({ seed: 2, users: 200, items: 60, perUser: 10 })
    const n0 = tf.memory().numTensors
    const a = await MultVae.fit(data, { epochs: 15, batchSize: 50, hidden: 100, latent: 20, seed: 4 })
    const b = await MultVae.fit(data, { epochs: 15, batchSize: 50, hidden: 100, latent: 20, seed: 4 })
    expect(Array.from(await a.model.scoreUsers([0, 1]))).toEqual(Array.from(await b.model.scoreUsers([0, 1])))
    const pop = await evaluate(new Popularity(data), data, 'val')
    expect(a.val.recall20).toBeGreaterThan(pop.recall20)
    a.model.dispose()
    b.model.dispose()
    expect(tf.memory().numTensors).toBe(n0)
  })

  it("reads the sparse input exactly as the dense one: tf.dropout's mask, x·w and its gradient", async () => {
    const data = generateDemoDataset({ seed: 3, users: 40, items: 30, perUser: 6 })
    const J = data.itemIds.length
    const users = [5, 0, 17, 33]
    const dense = new Float32Array(users.length * J)
    users.forEach((u, r) => {
      for (const j of data.train[u]) dense[r * J + j] = 1 / Math.sqrt(data.train[u].length)
    })
    const x = tf.tensor2d(dense, [users.length, J])
    // Outside a tidy it leaves only the tensors it returns.
    const n0 = tf.memory().numTensors
    tf.dispose(Object.values(sparseInput(data, users, 0.5, 77)).filter((t) => t instanceof tf.Tensor))
    expect(tf.memory().numTensors).toBe(n0)
    const toDense = (s: ReturnType<typeof sparseInput>) =>
      tf.scatterND(s.flat.expandDims(1), s.values, [users.length * J]).reshape([users.length, J])
    const dropped = sparseInput(data, users, 0.5, 77)
    const reference = tf.dropout(x, 0.5, undefined, 77)
    expect(Array.from(await toDense(dropped).data())).toEqual(Array.from(await reference.data()))
    // Some items kept and some dropped, so the comparison above could have failed.
    const kept = Array.from(await dropped.values.data())
    expect(kept.some((v) => v === 0) && kept.some((v) => v > 0)).toBe(true)

    const plain = sparseInput(data, users)
    const w = tf.randomNormal([J, 7], 0, 1, 'float32', 5) as tf.Tensor2D
    const r = tf.randomNormal([users.length, 7], 0, 1, 'float32', 6)
    const loss = (f: (w: tf.Tensor2D) => tf.Tensor) => (v: tf.Tensor) =>
      f(v as tf.Tensor2D)
        .mul(r)
        .sum()
    const sparseOut = await sparseMatMul(plain, w).data()
    const denseOut = await tf.matMul(x, w).data()
    sparseOut.forEach((v, i) => expect(v).toBeCloseTo(denseOut[i], 5))
    const gSparse = await tf
      .grad(loss((v) => sparseMatMul(plain, v)))(w)
      .data()
    const gDense = await tf
      .grad(loss((v) => tf.matMul(x, v)))(w)
      .data()
    expect(gDense.some((v) => v !== 0)).toBe(true)
    gSparse.forEach((v, i) => expect(v).toBeCloseTo(gDense[i], 5))
    tf.dispose([x, w, r, reference, ...Object.values(dropped).filter((t) => t instanceof tf.Tensor)])
    tf.dispose(Object.values(plain).filter((t) => t instanceof tf.Tensor))
  })
})
