import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { generateDemoDataset } from '../../../main/data/demo'
import { initBackend } from '../../../main/engine/backend'
import { MultVae } from '../../../main/engine/baselines/mult-vae'
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
})
