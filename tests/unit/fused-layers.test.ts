// Native layer norm and GELU (engine/fused-layers.ts) against the tfjs formulas GPT-2 uses on every other
// backend: values and every gradient, on shapes with and without a vector-width tail.
import * as tf from '@tensorflow/tfjs'
import { afterAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../main/engine/backend'
import { nativeGelu, nativeLayerNorm } from '../../main/engine/fused-layers'

function values(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0
  return Float32Array.from({ length: n }, () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return scale * (s / 2 ** 32 - 0.5)
  })
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0)

function layerNormRef(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  const mean = x.mean(-1, true)
  const centred = x.sub(mean)
  return centred.mul(centred.square().mean(-1, true).add(eps).rsqrt()).mul(g).add(b)
}

const geluRef = (x: tf.Tensor) =>
  x.mul(tf.tanh(x.add(x.mul(x).mul(x).mul(0.044715)).mul(Math.sqrt(2 / Math.PI))).add(1)).mul(0.5)

afterAll(async () => {
  await initBackend('wasm')
})

describe('native layer norm and GELU', () => {
  for (const shape of [
    [4, 7, 64],
    [3, 5, 37],
    [2, 1],
  ]) {
    it(`layer norm over [${shape}]: output and dx, dg, db equal the tfjs formula`, async () => {
      await initBackend('native')
      const c = shape[shape.length - 1]
      const size = shape.reduce((p, d) => p * d, 1)
      const x = tf.tensor(values(size, 1, 6), shape)
      const g = tf.tensor1d(values(c, 2, 2).map((v) => v + 1))
      const b = tf.tensor1d(values(c, 3))
      const up = tf.tensor(values(size, 4), shape) // a non-uniform upstream gradient
      const run = (f: (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor) => {
        const y = tf.tidy(() => f(x, g, b))
        const grads = tf.grads((a: tf.Tensor, w: tf.Tensor, v: tf.Tensor) => f(a, w, v).mul(up).sum())([
          x,
          g,
          b,
        ])
        const out = [y, ...grads].map((t) => t.dataSync().slice())
        tf.dispose([y, ...grads])
        return out
      }
      const before = tf.memory().numTensors
      const fused = run((a, w, v) => nativeLayerNorm(a, w, v, 1e-5) as tf.Tensor)
      expect(tf.memory().numTensors).toBe(before)
      const ref = run((a, w, v) => layerNormRef(a, w, v, 1e-5))
      const names = ['y', 'dx', 'dg', 'db']
      ref.forEach((r, k) => {
        const scale = Math.max(1, ...Array.from(r, Math.abs))
        expect(maxDiff(fused[k], r), names[k]).toBeLessThan(2e-5 * scale)
      })
      tf.dispose([x, g, b, up])
    })
  }

  it('GELU and its gradient equal the tfjs formula over [-10, 10]', async () => {
    await initBackend('native')
    const x = tf.tensor1d(Float32Array.from({ length: 4001 }, (_, i) => -10 + i * 0.005))
    const run = (f: (x: tf.Tensor) => tf.Tensor) => {
      const y = tf.tidy(() => f(x))
      const dx = tf.grad((a: tf.Tensor) => f(a).sum())(x)
      const out = [y.dataSync().slice(), dx.dataSync().slice()]
      tf.dispose([y, dx])
      return out
    }
    const [y, dx] = run((a) => nativeGelu(a) as tf.Tensor)
    const [yRef, dxRef] = run(geluRef)
    console.log(
      `gelu: max |Δy| ${maxDiff(y, yRef).toExponential(2)}, max |Δdx| ${maxDiff(dx, dxRef).toExponential(2)}`,
    )
    expect(maxDiff(y, yRef)).toBeLessThan(2e-6)
    expect(maxDiff(dx, dxRef)).toBeLessThan(2e-6)
    x.dispose()
  })

  it('is not used off the native backend', async () => {
    await initBackend('wasm')
    tf.tidy(() => {
      const x = tf.ones([2, 3])
      expect(nativeGelu(x)).toBeUndefined()
      expect(nativeLayerNorm(x, tf.ones([3]), tf.zeros([3]), 1e-5)).toBeUndefined()
    })
  })
})
