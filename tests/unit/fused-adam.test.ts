// The fused native Adam step (engine/fused-adam.ts) must give tfjs AdamOptimizer's weights and moments,
// keep tfjs's checkpoint format, leave no tensors behind, and fall back to tfjs where native is off.
import * as tf from '@tensorflow/tfjs'
import { afterAll, describe, expect, it } from 'vitest'
import { backendInfo, initBackend } from '../../main/engine/backend'
import { FusedAdamOptimizer } from '../../main/engine/fused-adam'
import { mulberry32 } from '../../main/data/prng'

const SHAPES: [number, number][] = [
  [37, 5],
  [300, 64],
  [1, 1],
]

/** Runs `steps` Adam steps on fresh variables with seeded gradients (some rows zero, as embeddings get). */
async function train(opt: tf.AdamOptimizer, steps: number, tag: string) {
  const random = mulberry32(11)
  const vars = SHAPES.map(([r, c], k) =>
    tf.tidy(() =>
      tf.variable(
        tf.tensor2d(
          Float32Array.from({ length: r * c }, () => random() - 0.5),
          [r, c],
        ),
        true,
        `${tag}_${k}`,
      ),
    ),
  )
  for (let s = 0; s < steps; s++) {
    const grads = vars.map((v, k) => {
      const [r, c] = SHAPES[k]
      const g = Float32Array.from({ length: r * c }, (_, i) =>
        Math.floor(i / c) % 3 === s % 3 ? 0 : (random() - 0.5) * 10 ** (-3 * random()),
      )
      return { name: v.name, tensor: tf.tensor2d(g, [r, c]) }
    })
    opt.applyGradients(grads)
    tf.dispose(grads.map((g) => g.tensor))
  }
  const weights = await opt.getWeights()
  const out = {
    values: vars.map((v) => v.dataSync().slice()),
    moments: weights.slice(1).map((w) => w.tensor.dataSync().slice()),
    iterations: weights[0].tensor.dataSync()[0],
  }
  weights[0].tensor.dispose() // the rest are the optimizer's own moment variables
  tf.dispose(vars)
  return out
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0)

afterAll(async () => {
  await initBackend('wasm')
})

describe('fused Adam', () => {
  it('on native: weights, moments and iterations equal tfjs Adam after 25 steps', async () => {
    await initBackend('native')
    expect(backendInfo()?.name).toBe('native')
    const n0 = tf.memory().numTensors
    const ref = new tf.AdamOptimizer(3e-3, 0.9, 0.999, 1e-8)
    const fused = new FusedAdamOptimizer(3e-3, 0.9, 0.999, 1e-8)
    const a = await train(ref, 25, 'ref')
    const before = tf.memory().numTensors
    const b = await train(fused, 25, 'fused')
    expect(b.iterations).toBe(25)
    expect(b.iterations).toBe(a.iterations)
    expect(b.moments.length).toBe(2 * SHAPES.length)
    let worst = 0
    for (let k = 0; k < SHAPES.length; k++) {
      // The weights moved (by up to 25 lr), and moved as tfjs moved them.
      expect(maxDiff(a.values[k], b.values[k])).toBeLessThan(1e-6)
      worst = Math.max(worst, maxDiff(a.values[k], b.values[k]))
    }
    for (let k = 0; k < b.moments.length; k++) {
      const scale = Math.max(...Array.from(a.moments[k], Math.abs))
      expect(scale).toBeGreaterThan(0)
      expect(maxDiff(a.moments[k], b.moments[k])).toBeLessThan(1e-6 * scale)
    }
    console.log(`fused Adam vs tfjs Adam on native: max |Δw| ${worst.toExponential(2)}`)
    // Only the optimizer's own state outlives the steps: 2 moments per variable.
    expect(tf.memory().numTensors - before).toBe(2 * SHAPES.length)
    ref.dispose()
    fused.dispose()
    expect(tf.memory().numTensors).toBe(n0)
  })

  it('on plain wasm it is tfjs Adam (same weights as on native)', async () => {
    await initBackend('native')
    const onNative = await train(new FusedAdamOptimizer(1e-2, 0.9, 0.999, 1e-8), 10, 'n')
    await initBackend('wasm')
    const onWasm = await train(new FusedAdamOptimizer(1e-2, 0.9, 0.999, 1e-8), 10, 'w')
    const plain = await train(new tf.AdamOptimizer(1e-2, 0.9, 0.999, 1e-8), 10, 'p')
    for (let k = 0; k < SHAPES.length; k++) {
      expect(Array.from(onWasm.values[k])).toEqual(Array.from(plain.values[k]))
      expect(maxDiff(onNative.values[k], onWasm.values[k])).toBeLessThan(1e-6)
    }
  })

  it('resumes from getWeights/setWeights as an uninterrupted run does', async () => {
    await initBackend('native')
    const random = mulberry32(3)
    const gs = [0, 1, 2].map(() => Float32Array.from({ length: 20 }, () => random() - 0.5))
    const start = Float32Array.from({ length: 20 }, () => random())
    const stepWith = (o: tf.AdamOptimizer, v: tf.Variable, g: Float32Array) => {
      const t = tf.tensor2d(g, [4, 5])
      o.applyGradients([{ name: v.name, tensor: t }])
      t.dispose()
    }
    const whole = new FusedAdamOptimizer(1e-2, 0.9, 0.999, 1e-8)
    const a = tf.variable(tf.tensor2d(start, [4, 5]), true, 'resume_a')
    gs.forEach((g) => stepWith(whole, a, g))
    const first = new FusedAdamOptimizer(1e-2, 0.9, 0.999, 1e-8)
    const b = tf.variable(tf.tensor2d(start, [4, 5]), true, 'resume_b')
    stepWith(first, b, gs[0])
    stepWith(first, b, gs[1])
    const saved = await first.getWeights()
    const resumed = new FusedAdamOptimizer(1e-2, 0.9, 0.999, 1e-8)
    await resumed.setWeights(saved)
    stepWith(resumed, b, gs[2])
    expect(maxDiff(a.dataSync(), start)).toBeGreaterThan(1e-2)
    expect(maxDiff(a.dataSync(), b.dataSync())).toBeLessThan(1e-6)
    const ws = await resumed.getWeights()
    expect(ws[0].tensor.dataSync()[0]).toBe(3)
    tf.dispose([a, b, ws[0].tensor, ...saved.map((w) => w.tensor)])
    ;[whole, first, resumed].forEach((o) => o.dispose())
  })
})
