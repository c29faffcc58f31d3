// The optional native addon: its kernels against plain wasm (same process, same inputs), memory hygiene
// and the fallback when it cannot load. The addon is a real component CI builds: these tests never skip.
import * as tf from '@tensorflow/tfjs'
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { initBackend, loadNative, type WasmBackendLike } from '../../main/engine/backend'
import { spdInverse } from '../../main/engine/baselines/spd-inverse'
import { randomSpd } from './baselines/spd-fixture'
import { sparseSoftmaxCrossEntropy, sparseSoftmaxCrossEntropyGrad } from '../../main/engine/fused-ce'

const root = path.resolve(__dirname, '../..')
let loadError: string | undefined
try {
  loadNative()
} catch (err) {
  loadError = (err as Error).message
}

function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0
  return Float32Array.from({ length: n }, () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32 - 0.5
  })
}

async function on(name: 'wasm' | 'native', fn: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await initBackend(name)
  const outs = tf.tidy(() => {
    const r = fn()
    return Array.isArray(r) ? r : [r]
  })
  const arrays = outs.map((t) => t.dataSync() as Float32Array)
  tf.dispose(outs)
  return arrays
}

function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let k = 0; k < a.length; k++) {
    expect(a[k].length).toBe(b[k].length)
    for (let i = 0; i < a[k].length; i++) m = Math.max(m, Math.abs(a[k][i] - b[k][i]))
  }
  return m
}

describe('native addon', () => {
  it('loads and reports its BLAS', async () => {
    expect(loadError).toBeUndefined()
    const info = await initBackend('native')
    expect(info.name).toBe('native')
    expect(info.native?.library).toMatch(/OpenBLAS|Accelerate/)
    expect(info.native?.threads).toBeGreaterThanOrEqual(1)
    expect(info.reason).toMatch(/threads/)
    expect(tf.getBackend()).toBe('wasm')
  })
})

describe('native BatchMatMul vs wasm', () => {
  // [a shape, b shape] before transposition flags are applied to the last two dims.
  const cases: [string, number[], number[], number[]][] = [
    // name, batch dims of a, batch dims of b, [M, K, N]
    ['2-D', [], [], [37, 19, 23]],
    ['row vector', [], [], [1, 64, 5]],
    ['batched', [3], [3], [17, 9, 12]],
    ['b broadcast (rank 2)', [4], [], [8, 16, 7]],
    ['a broadcast (size 1)', [1], [5], [6, 10, 11]],
    ['rank 4', [2, 3], [2, 3], [5, 8, 9]],
  ]
  for (const [name, ba, bb, [M, K, N]] of cases) {
    for (const [ta, tb] of [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ] as const) {
      it(`${name}, transposeA=${ta}, transposeB=${tb}`, async () => {
        const aShape = [...ba, ...(ta ? [K, M] : [M, K])]
        const bShape = [...bb, ...(tb ? [N, K] : [K, N])]
        const av = values(
          aShape.reduce((p, d) => p * d, 1),
          7 + M,
        )
        const bv = values(
          bShape.reduce((p, d) => p * d, 1),
          9 + N,
        )
        const f = () => tf.matMul(tf.tensor(av, aShape), tf.tensor(bv, bShape), ta, tb)
        const d = maxAbsDiff(await on('native', f), await on('wasm', f))
        console.log(`matMul ${name} tA=${ta} tB=${tb}: max |native - wasm| = ${d.toExponential(2)}`)
        expect(d).toBeLessThan(1e-5 * K)
      })
    }
  }

  it('gradients through matMul equal wasm', async () => {
    const av = values(4 * 12 * 10, 1)
    const bv = values(4 * 6 * 10, 2)
    // tfjs's matMul gradient does not reduce broadcast batch dims, so both sides carry the batch.
    const f = () =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b, false, true).square().sum())([
        tf.tensor3d(av, [4, 12, 10]),
        tf.tensor3d(bv, [4, 6, 10]),
      ])
    const d = maxAbsDiff(await on('native', f), await on('wasm', f))
    console.log(`matMul gradients: max |native - wasm| = ${d.toExponential(2)}`)
    expect(d).toBeLessThan(1e-4)
  })

  it('500 matMul steps leak no tensor and do not grow the wasm heap', async () => {
    await initBackend('native')
    const a = tf.tensor3d(values(2 * 64 * 48, 3), [2, 64, 48])
    const b = tf.tensor2d(values(64 * 32, 4), [64, 32])
    const step = () => tf.tidy(() => tf.matMul(a, b, true, false).sum().dataSync()[0])
    for (let i = 0; i < 5; i++) step()
    const wb = tf.backend() as unknown as WasmBackendLike
    const tensors = tf.memory().numTensors
    const heap = wb.wasm.HEAPU8.buffer.byteLength
    for (let i = 0; i < 500; i++) step()
    expect(tf.memory().numTensors).toBe(tensors)
    expect(wb.wasm.HEAPU8.buffer.byteLength).toBe(heap)
    tf.dispose([a, b])
  })

  it('flushes denormals inside its kernels only: the caller keeps IEEE denormals afterwards', async () => {
    const tiny = 1e-39 // a float32 denormal
    const f = () => tf.matMul(tf.fill([32, 64], tiny), tf.ones([64, 16]))
    const [got] = await on('native', f)
    // Flushed to zero inside sgemm (64·1e-39 stays far below any tolerance); never NaN or garbage.
    for (const x of got) expect(Math.abs(x)).toBeLessThanOrEqual(64 * tiny * 1.01)
    // The process' own float mode is restored: wasm and JS arithmetic still see denormals.
    const [wasmSide] = await on('native', () => tf.scalar(tiny).mul(tf.scalar(2)))
    expect(wasmSide[0]).toBeGreaterThan(0)
    expect(Number.MIN_VALUE * 2).toBeGreaterThan(0)
  })

  it('survives heap growth between allocation and the kernel (large output)', async () => {
    await initBackend('native')
    const wb = tf.backend() as unknown as WasmBackendLike
    const before = wb.wasm.HEAPU8.buffer.byteLength
    const n = 2048 // a 16 MiB output, more than a fresh heap's free space
    const a = tf.ones([n, 8])
    const b = tf.ones([8, n])
    const c = tf.matMul(a, b)
    const v = c.dataSync()
    expect(v[0]).toBe(8)
    expect(v[v.length - 1]).toBe(8)
    console.log(`heap ${before} -> ${wb.wasm.HEAPU8.buffer.byteLength} bytes`)
    tf.dispose([a, b, c])
  })
})

describe('native fused sparse softmax CE vs tfjs', () => {
  const n = 6
  const V = 1000
  const z = values(n * V, 5).map((x) => 8 * x)
  const y = Int32Array.from([0, 999, 17, 17, 500, 3])
  const dy = Float32Array.from([1, 0.5, -2, 0, 3, 1])

  it('loss and gradient equal the tfjs fallback', async () => {
    const f = () => {
      const logits = tf.tensor2d(z, [n, V])
      return [
        sparseSoftmaxCrossEntropy(logits, y),
        sparseSoftmaxCrossEntropyGrad(logits, y, tf.tensor1d(dy)),
        sparseSoftmaxCrossEntropyGrad(logits, y, tf.scalar(0.25)),
      ]
    }
    const native = await on('native', f)
    const plain = await on('wasm', f)
    const d = maxAbsDiff(native, plain)
    console.log(`fused CE: max |native - tfjs| = ${d.toExponential(2)}`)
    expect(d).toBeLessThan(1e-5)
    // Hand check: loss = logsumexp - z[y] for row 0.
    let mx = -Infinity
    for (let j = 0; j < V; j++) mx = Math.max(mx, z[j])
    let s = 0
    for (let j = 0; j < V; j++) s += Math.exp(z[j] - mx)
    expect(native[0][0]).toBeCloseTo(Math.log(s) + mx - z[0], 4)
  })

  it('rejects out-of-range labels on both paths and leaks nothing', async () => {
    for (const name of ['native', 'wasm'] as const) {
      await initBackend(name)
      const logits = tf.tensor2d(z, [n, V])
      const before = tf.memory().numTensors
      expect(() => sparseSoftmaxCrossEntropy(logits, Int32Array.from([0, 1, 2, 3, 4, V]))).toThrow(
        /label 1000/,
      )
      tf.dispose(sparseSoftmaxCrossEntropyGrad(logits, y, tf.scalar(1)))
      // The scalar dy passed in is the caller's, so one extra tensor is expected here.
      expect(tf.memory().numTensors).toBe(before + 1)
      logits.dispose()
    }
  })
})

describe('native vectorised kernels vs wasm', () => {
  it('fused CE with a row tail (V not a multiple of 16) and underflowing exps', async () => {
    const n = 5
    const V = 1003
    // Wide logits: most exp(z - max) underflow below 1e-38, which the kernel flushes to 0.
    const z = values(n * V, 9).map((x, i) => (i % V === 7 ? 90 : 200 * x))
    const y = Int32Array.from([7, 1002, 0, 500, 1001])
    const f = () => {
      const logits = tf.tensor2d(z, [n, V])
      return [sparseSoftmaxCrossEntropy(logits, y), sparseSoftmaxCrossEntropyGrad(logits, y, tf.scalar(1))]
    }
    const d = maxAbsDiff(await on('native', f), await on('wasm', f))
    console.log(`fused CE (V 1003, wide logits): max |native - wasm| = ${d.toExponential(2)}`)
    expect(d).toBeLessThan(1e-4)
  })

  const sumCases: [number[], number | number[], boolean][] = [
    [[1024, 384], 0, false],
    [[8, 128, 128], [0, 1], false],
    [[8, 128, 128], [1, 0], true],
    [[7, 5, 3], -3, false],
    [[0, 4], 0, false],
    [[6, 5, 4], [0, 2], false], // not leading: wasm's kernel
    [[6, 5], 1, true], // innermost: wasm's kernel
  ]
  for (const [shape, axis, keepDims] of sumCases) {
    it(`Sum over axis ${JSON.stringify(axis)} of [${shape}]${keepDims ? ', keepDims' : ''}`, async () => {
      const size = shape.reduce((p, d) => p * d, 1)
      const x = values(size, size + 3)
      const f = () => tf.sum(tf.tensor(x, shape), axis, keepDims)
      const native = await on('native', f)
      const plain = await on('wasm', f)
      await initBackend('native')
      const outShape = tf.tidy(() => f().shape)
      await initBackend('wasm')
      expect(outShape).toEqual(tf.tidy(() => f().shape))
      // Float sums of up to 1024 terms in [-0.5, 0.5]; wasm adds them in another order.
      expect(maxAbsDiff(native, plain)).toBeLessThan(1e-4)
    })
  }

  it('Tanh equals wasm within 3e-7 over [-12, 12] and keeps 0, ±∞ and NaN', async () => {
    const x = Float32Array.from({ length: 48_001 }, (_, i) => -12 + i * 0.0005)
    const special = Float32Array.from([0, -0, Infinity, -Infinity, NaN, 1e-30, -1e-30, 0.19999, 0.2, 9, 9.5])
    const f = () => [tf.tanh(tf.tensor1d(x)), tf.tanh(tf.tensor1d(special))]
    const [nat, natSpecial] = await on('native', f)
    const [plain, plainSpecial] = await on('wasm', f)
    const d = maxAbsDiff([nat], [plain])
    console.log(`tanh: max |native - wasm| = ${d.toExponential(2)}`)
    expect(d).toBeLessThan(3e-7)
    expect(Array.from(natSpecial.slice(0, 4))).toEqual([0, -0, 1, -1])
    expect(Number.isNaN(natSpecial[4])).toBe(true)
    expect(maxAbsDiff([natSpecial.slice(5)], [plainSpecial.slice(5)])).toBeLessThan(3e-7)
    expect(natSpecial[5]).toBe(Math.fround(1e-30)) // tiny inputs keep their value (series branch)
  })

  it('gradients through tanh and leading-axis sums equal wasm', async () => {
    const x = values(64 * 48, 21).map((v) => 6 * v)
    const f = () => {
      const t = tf.tensor2d(x, [64, 48])
      const g = tf.grad((a: tf.Tensor) => tf.tanh(a).mul(a).sum(0).square().sum())(t)
      return [g]
    }
    expect(maxAbsDiff(await on('native', f), await on('wasm', f))).toBeLessThan(1e-4)
  })
})

describe('native SPD inverse (EASE)', () => {
  it('equals the JS Cholesky inverse', () => {
    const n = 150
    const A = randomSpd(n, 13)
    const copy = Float64Array.from(A)
    const js = spdInverse(A, n, { native: false })
    const native = spdInverse(A, n)
    expect(A).toEqual(copy) // the input is not overwritten
    let d = 0
    let scale = 0
    for (let i = 0; i < n * n; i++) {
      d = Math.max(d, Math.abs(js[i] - native[i]))
      scale = Math.max(scale, Math.abs(js[i]))
    }
    console.log(
      `spdInverse n=${n}: max |native - JS| = ${d.toExponential(2)} (max entry ${scale.toFixed(2)})`,
    )
    expect(d).toBeLessThan(1e-9 * scale)
  })
})

describe('without the addon', () => {
  const run = (
    env: Record<string, string>,
    prefer: string,
  ): { name: string; reason: string; tried: { name: string; error: string }[] } => {
    const e = { ...process.env, ...env }
    delete e.CLLM4REC_BACKEND
    const script = `import('./main/engine/backend.ts').then(async (m) => { try { console.log(JSON.stringify(await m.initBackend('${prefer}'))) } catch (err) { console.log(JSON.stringify({ error: err.message })) } })`
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: root,
      env: e,
      encoding: 'utf8',
    })
    return JSON.parse(out.trim().split('\n').pop() as string)
  }

  it('auto falls back to wasm and says why when the addon file is bogus', () => {
    const info = run({ CLLM4REC_NATIVE_PATH: path.join(root, 'package.json') }, 'auto')
    if (info.name === 'node' || info.name === 'node-gpu') return // a tfjs-node machine never reaches native
    expect(info.name).toBe('wasm')
    const native = info.tried.find((t) => t.name === 'native')
    expect(native?.error).toMatch(/@cllm4rec\/native unavailable/)
    expect(info.reason).toMatch(/native unavailable/)
  })

  it('CLLM4REC_NATIVE=0 makes an explicit native request fail, naming the switch', () => {
    const info = run({ CLLM4REC_NATIVE: '0' }, 'native') as unknown as { error: string }
    expect(info.error).toMatch(/CLLM4REC_NATIVE=0/)
  })
})
