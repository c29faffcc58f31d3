// Backend selection and the wasm kernel fixes, checked against the cpu backend's reference kernels.
import * as tf from '@tensorflow/tfjs'
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  backendInfo,
  backendLabel,
  guardWasmMalloc,
  initBackend,
  type WasmModuleLike,
} from '../../main/engine/backend'
import { vulkanLoaderFound } from '../../main/engine/backend-webgpu'

const root = path.resolve(__dirname, '../..')

/** Run fn on the given backend and return plain arrays (tensors are disposed). */
async function on(name: 'cpu' | 'wasm', fn: () => tf.Tensor | tf.Tensor[]): Promise<number[][]> {
  await initBackend(name)
  const outs = tf.tidy(() => {
    const r = fn()
    return Array.isArray(r) ? r : [r]
  })
  const arrays = outs.map((t) => Array.from(t.dataSync()))
  tf.dispose(outs)
  return arrays
}

function expectClose(a: number[][], b: number[][], tol = 1e-4): void {
  expect(a.length).toBe(b.length)
  for (let k = 0; k < a.length; k++) {
    expect(a[k].length).toBe(b[k].length)
    for (let i = 0; i < a[k].length; i++) {
      expect(Math.abs(a[k][i] - b[k][i])).toBeLessThanOrEqual(tol * (1 + Math.abs(b[k][i])))
    }
  }
}

// Deterministic pseudo-random values without tf's RNG (identical on both backends).
function values(n: number, seed: number): number[] {
  let s = seed >>> 0
  return Array.from({ length: n }, () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32 - 0.5
  })
}

describe('initBackend', () => {
  it('selects wasm and cpu explicitly, idempotently, and reports what it tried', async () => {
    const a = await initBackend('wasm')
    expect(a.name).toBe('wasm')
    expect(tf.getBackend()).toBe('wasm')
    expect(await initBackend('wasm')).toBe(a)
    expect(backendInfo()).toBe(a)
    const c = await initBackend('cpu')
    expect(c.name).toBe('cpu')
    expect(tf.getBackend()).toBe('cpu')
  })

  it('auto skips the node backends that are not installed here and records why (fresh process)', () => {
    const env = { ...process.env }
    delete env.CLLM4REC_BACKEND
    const script =
      "import('./main/engine/backend.ts').then(async (m) => console.log(JSON.stringify(await m.initBackend())))"
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: root,
      env,
      encoding: 'utf8',
    })
    const info = JSON.parse(out.trim().split('\n').pop() as string)
    expect(['node-gpu', 'webgpu', 'node', 'native', 'wasm']).toContain(info.name)
    if (info.name === 'native' || info.name === 'wasm') {
      const skipped = ['node-gpu', 'webgpu', 'node', ...(info.name === 'wasm' ? ['native'] : [])]
      expect(info.tried.map((t: { name: string }) => t.name)).toEqual(skipped)
      expect(info.tried[0].error).toMatch(/tfjs-node-gpu/)
      // No hardware GPU here: Dawn finds none, or only a software adapter that auto must not take.
      expect(info.tried[1].error).toMatch(/no WebGPU adapter|no Vulkan loader|only a software adapter/)
      expect(info.reason).toMatch(/node-gpu, webgpu, node unavailable/)
    }
  })

  it('overlapping auto calls agree with each other and with the backend tfjs runs (fresh process)', () => {
    const env = { ...process.env }
    delete env.CLLM4REC_BACKEND
    // Three requests opening runs at once in the engine worker, each using tensors once it returns.
    const script = `import('./main/engine/backend.ts').then(async (m) => {
      const tf = await import('@tensorflow/tfjs')
      const use = async () => {
        const info = await m.initBackend('auto')
        const sum = (await tf.tensor([1, 2, 3]).square().sum().data())[0]
        return { name: info.name, tf: tf.getBackend(), sum }
      }
      console.log(JSON.stringify(await Promise.all([use(), use(), use()])))
    })`
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: root,
      env,
      encoding: 'utf8',
    })
    const calls = JSON.parse(out.trim().split('\n').pop() as string) as {
      name: string
      tf: string
      sum: number
    }[]
    const tfName: Record<string, string> = {
      native: 'wasm',
      wasm: 'wasm',
      node: 'tensorflow',
      webgpu: 'webgpu',
    }
    for (const c of calls) expect(c).toEqual({ name: calls[0].name, tf: tfName[calls[0].name], sum: 14 })
  })

  it('honours CLLM4REC_BACKEND for auto and rejects a bad value', async () => {
    const prev = process.env.CLLM4REC_BACKEND
    try {
      await initBackend('wasm')
      process.env.CLLM4REC_BACKEND = 'cpu'
      const info = await initBackend('auto')
      expect(info.name).toBe('cpu')
      expect(info.reason).toContain('CLLM4REC_BACKEND')
      process.env.CLLM4REC_BACKEND = 'tpu'
      await expect(initBackend('auto')).rejects.toThrow(/CLLM4REC_BACKEND="tpu"/)
    } finally {
      if (prev === undefined) delete process.env.CLLM4REC_BACKEND
      else process.env.CLLM4REC_BACKEND = prev
    }
  })

  it('removes the wasm glue handlers that would dump its minified source on any crash', async () => {
    await initBackend('wasm')
    const src = [...process.listeners('uncaughtException'), ...process.listeners('unhandledRejection')].map(
      String,
    )
    expect(src.some((s) => s.includes('ExitStatus') || s.includes('throw reason'))).toBe(false)
  })

  it('labels runs with the GPU adapter for webgpu only', () => {
    const adapter = {
      vendor: 'mesa',
      architecture: 'software',
      device: 'llvmpipe',
      description: 'llvmpipe: Mesa 25.0.7',
      fallback: true,
      maxStorageBufferBindingSize: 2 ** 27,
    }
    expect(backendLabel({ name: 'wasm', reason: 'x', tried: [] })).toBe('wasm')
    expect(backendLabel({ name: 'webgpu', reason: 'x', tried: [], adapter })).toBe(
      'webgpu (mesa software, llvmpipe: Mesa 25.0.7 (software))',
    )
  })

  it('never takes a software WebGPU adapter unless asked for with CLLM4REC_WEBGPU_FALLBACK=1', async () => {
    const prev = process.env.CLLM4REC_WEBGPU_FALLBACK
    delete process.env.CLLM4REC_WEBGPU_FALLBACK
    try {
      await initBackend('cpu')
      // Here Dawn finds no Vulkan device, or (with lavapipe selected) only the software one.
      await expect(initBackend('webgpu')).rejects.toThrow(
        /webgpu: (Dawn found no WebGPU adapter|no Vulkan loader|only a software adapter .*CLLM4REC_WEBGPU_FALLBACK=1)/,
      )
      expect(tf.getBackend()).toBe('cpu')
    } finally {
      if (prev !== undefined) process.env.CLLM4REC_WEBGPU_FALLBACK = prev
    }
  })

  it("says why webgpu cannot run inside Electron's processes (auto falls back)", async () => {
    Object.defineProperty(process.versions, 'electron', { value: '39.8.10', configurable: true })
    try {
      await initBackend('cpu')
      await expect(initBackend('webgpu')).rejects.toThrow(
        /webgpu: Electron forbids the external ArrayBuffers/,
      )
    } finally {
      delete (process.versions as { electron?: string }).electron
    }
    expect(process.versions.electron).toBeUndefined()
  })

  it('fails loudly when an explicit backend is unavailable', async () => {
    await expect(initBackend('node-gpu')).rejects.toThrow(/node-gpu/)
  })
})

describe('vulkanLoaderFound (webgpu is not tried where Dawn could only warn)', () => {
  const none = () => false
  it('finds the loader in LD_LIBRARY_PATH, in ld.so.cache or in a library folder', () => {
    const inDir = (dir: string) => (f: string) => f === path.join(dir, 'libvulkan.so.1')
    expect(vulkanLoaderFound(Buffer.from('libc.so.6\0'), '/opt/mesa/lib:/x', inDir('/opt/mesa/lib'))).toBe(
      true,
    )
    expect(vulkanLoaderFound(Buffer.from('libc.so.6\0libvulkan.so.1\0'), '', none)).toBe(true)
    expect(vulkanLoaderFound(Buffer.from('libc.so.6\0'), '', inDir('/usr/lib64'))).toBe(true)
  })
  it('reports it missing only when the cache was read and lists no loader', () => {
    expect(vulkanLoaderFound(Buffer.from('libc.so.6\0libvulkan_lvp.so\0'), '/opt/x', none)).toBe(false)
    expect(vulkanLoaderFound(null, '', none)).toBe(true)
  })
})

describe('wasm UnsortedSegmentSum (added kernel)', () => {
  const x = values(7 * 3, 1)
  const cases: [string, number[], number][] = [
    ['repeated unsorted ids', [4, 0, 4, 2, 0, 4, 1], 6],
    ['all one segment', [3, 3, 3, 3, 3, 3, 3], 4],
    ['distinct ids', [6, 5, 4, 3, 2, 1, 0], 7],
  ]
  for (const [name, ids, n] of cases) {
    it(`matches cpu: ${name}`, async () => {
      const f = () => tf.unsortedSegmentSum(tf.tensor2d(x, [7, 3]), tf.tensor1d(ids, 'int32'), n)
      expectClose(await on('wasm', f), await on('cpu', f), 1e-6)
    })
  }

  it('makes the gather (embedding) gradient equal to cpu, with no leaks', async () => {
    const table = values(10 * 4, 2)
    const up = values(2 * 5 * 4, 3)
    const f = () =>
      tf.grad((t: tf.Tensor) =>
        tf
          .gather(t, tf.tensor2d([1, 9, 1, 0, 1, 3, 3, 9, 2, 1], [2, 5], 'int32'))
          .mul(tf.tensor3d(up, [2, 5, 4]))
          .sum(),
      )(tf.tensor2d(table, [10, 4]))
    const w = await on('wasm', f)
    expectClose(w, await on('cpu', f), 1e-6)
    await initBackend('wasm')
    const before = tf.memory().numTensors
    await on('wasm', f)
    expect(tf.memory().numTensors).toBe(before)
  })
})

describe('wasm BatchMatMul (transposes made explicit)', () => {
  const shapes: [string, number[], number[], boolean, boolean][] = [
    ['2d plain', [5, 7], [7, 3], false, false],
    ['2d transposeB', [5, 7], [3, 7], false, true],
    ['2d transposeA', [7, 5], [7, 3], true, false],
    ['2d both', [7, 5], [3, 7], true, true],
    ['batched transposeB', [2, 4, 6], [2, 5, 6], false, true],
    ['batched transposeA, broadcast b', [3, 6, 4], [6, 5], true, false],
    ['rank 4 both', [2, 2, 6, 3], [2, 2, 4, 6], true, true],
  ]
  for (const [name, sa, sb, ta, tb] of shapes) {
    it(`matches cpu: ${name}`, async () => {
      const na = sa.reduce((p, d) => p * d, 1)
      const nb = sb.reduce((p, d) => p * d, 1)
      const f = () => tf.matMul(tf.tensor(values(na, 4), sa), tf.tensor(values(nb, 5), sb), ta, tb)
      const w = await on('wasm', f)
      expectClose(w, await on('cpu', f), 1e-5)
    })
  }

  it('gradients through transposed matMul equal cpu and release all memory', async () => {
    const f = () => {
      const a = tf.tensor2d(values(6 * 8, 6), [6, 8])
      const b = tf.tensor2d(values(5 * 8, 7), [5, 8])
      const g = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.matMul(p, q, false, true).square().sum())
      return g([a, b])
    }
    expectClose(await on('wasm', f), await on('cpu', f), 1e-5)
    await initBackend('wasm')
    await on('wasm', f)
    const m = tf.memory()
    await on('wasm', f)
    expect(tf.memory().numTensors).toBe(m.numTensors)
    expect(tf.memory().numBytes).toBe(m.numBytes)
  })
})

describe('wasm Gather, Slice, SplitV and Identity (copy-free replacements)', () => {
  const exact = (a: number[][], b: number[][]) => expect(a).toEqual(b)
  const gatherCases: [string, number[], 'float32' | 'int32', number[], number[]][] = [
    ['rows of a table', [10, 4], 'float32', [9, 0, 3, 3, 7], [5]],
    ['2-D indices', [6, 3], 'float32', [1, 5, 0, 2, 2, 4], [2, 3]],
    ['int32 table of rank 3', [5, 2, 3], 'int32', [4, 1, 1], [3]],
    ['a vector', [8], 'float32', [7, 0], [2]],
  ]
  for (const [name, shape, dtype, idx, idxShape] of gatherCases) {
    it(`gather matches cpu: ${name}`, async () => {
      const n = shape.reduce((p, d) => p * d, 1)
      const vals = values(n, 6).map((v) => (dtype === 'int32' ? Math.round(v * 100) : v))
      const f = () => tf.gather(tf.tensor(vals, shape, dtype), tf.tensor(idx, idxShape, 'int32'))
      exact(await on('wasm', f), await on('cpu', f))
      await initBackend('wasm')
      expect(tf.tidy(() => f().shape)).toEqual([...idxShape, ...shape.slice(1)])
    })
  }

  it('gather along axis 1 keeps the wasm kernel and equals cpu', async () => {
    const f = () => tf.gather(tf.tensor2d(values(12, 7), [3, 4]), tf.tensor1d([3, 0], 'int32'), 1)
    exact(await on('wasm', f), await on('cpu', f))
  })

  it('gather rejects an index outside the table, naming it, and leaks nothing', async () => {
    await initBackend('wasm')
    const t = tf.tensor2d(values(8, 8), [4, 2])
    const i = tf.tensor1d([1, 4], 'int32')
    const before = tf.memory()
    expect(() => tf.gather(t, i)).toThrow(/index value 4 is not in \[0, 3\]/)
    expect(tf.memory().numTensors).toBe(before.numTensors)
    expect(tf.memory().numBytes).toBe(before.numBytes)
    tf.dispose([t, i])
  })

  const sliceCases: [number[], number[], number[]][] = [
    [[10], [3], [5]],
    [
      [6, 7],
      [1, 2],
      [4, 3],
    ],
    [
      [6, 7],
      [0, 0],
      [6, -1],
    ],
    [
      [3, 4, 5],
      [1, 0, 2],
      [2, 4, 3],
    ],
    [
      [2, 3, 4, 5],
      [1, 1, 0, 1],
      [1, 2, 4, 4],
    ],
    [
      [2, 2, 3, 2, 3],
      [0, 1, 1, 0, 1],
      [2, 1, 2, 2, 2],
    ],
  ]
  for (const [shape, begin, size] of sliceCases) {
    it(`slice matches cpu: [${shape}] from [${begin}] size [${size}]`, async () => {
      const n = shape.reduce((p, d) => p * d, 1)
      const vals = values(n, 9)
      const f = () => [
        tf.slice(tf.tensor(vals, shape), begin, size),
        tf.slice(
          tf.tensor(
            vals.map((v) => Math.round(v * 1000)),
            shape,
            'int32',
          ),
          begin,
          size,
        ),
      ]
      exact(await on('wasm', f), await on('cpu', f))
    })
  }

  it('split matches cpu for equal and uneven sizes, on the last and a middle axis', async () => {
    const vals = values(2 * 6 * 9, 10)
    const f = () => {
      const x = tf.tensor3d(vals, [2, 6, 9])
      return [...tf.split(x, 3, 2), ...tf.split(x, [1, 2, 3], 1), ...tf.split(x, [4, -1], -1)]
    }
    exact(await on('wasm', f), await on('cpu', f))
  })

  it('identity (clone) shares the buffer safely: each side disposes on its own, nothing leaks', async () => {
    await initBackend('wasm')
    const before = tf.memory()
    const a = tf.tensor1d([1, 2, 3])
    const b = tf.clone(a)
    expect(tf.memory().numTensors).toBe(before.numTensors + 2)
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers + 1) // one buffer, two tensors
    a.dispose()
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3])
    const g = tf.grad((x: tf.Tensor) => tf.clone(x).mul(2).sum())(b)
    expect(Array.from(g.dataSync())).toEqual([2, 2, 2])
    tf.dispose([b, g])
    expect(tf.memory().numTensors).toBe(before.numTensors)
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers)
  })
})

describe('wasm heap exhaustion (malloc guard)', () => {
  it('throws at the allocation, naming the size, instead of writing a tensor at offset 0', async () => {
    await initBackend('wasm')
    const before = tf.memory().numTensors
    // Just under 4 GiB: wasm's malloc fails (0) or, its size arithmetic wrapped, returns a small block.
    expect(() => tf.fill([2 ** 30 - 2 ** 10], 0)).toThrow(
      /out of wasm memory: no room for a tensor of 4096 MiB/,
    )
    // 4 GiB and more would wrap around to a small allocation in wasm32.
    expect(() => tf.tidy(() => tf.ones([4]).add(tf.fill([2 ** 30 + 8], 1)))).toThrow(/lower batchSize/)
    expect(tf.memory().numTensors).toBe(before)
    const t = tf.ones([4]).add(1)
    expect(Array.from(t.dataSync())).toEqual([2, 2, 2, 2])
    t.dispose()
  })

  it('treats a malloc that returns 0 (heap full, cannot grow) as out of memory', () => {
    let calls = 0
    const heap: WasmModuleLike = {
      HEAPU8: new Uint8Array(1024),
      _malloc: () => (calls++ === 0 ? 16 : 0),
      _free: () => {},
    }
    guardWasmMalloc(heap)
    expect(() => heap._malloc(512)).toThrow(
      /out of wasm memory: no room for a tensor of 0 MiB \(heap now 0 MiB/,
    )
    expect(heap._malloc(0)).toBe(0)
  })
})
