// Picks the TensorFlow.js backend (node-gpu > webgpu > node > native > wasm > cpu) and applies our fixes to
// wasm; the webgpu half (Dawn device, validation errors, buffer pool) is in backend-webgpu.ts.
// Every backend workaround lives here so models never special-case a backend (DESIGN: engine/backend.ts).
// wasm fixes: (a) UnsortedSegmentSum is missing, yet it is the gradient of gather (embedding lookup);
// (b) wasm's transposed matMul is 10-70x slower than the plain one, and every matMul backward uses it.
// 'native' is wasm with BatchMatMul computed by the optional @cllm4rec/native addon (OpenBLAS/Accelerate)
// directly on the wasm heap; tfjs sees the backend named 'wasm' either way.
import * as tf from '@tensorflow/tfjs'
import type { NativeInfo } from '../../native/index'
import {
  WEBGPU_FALLBACK_ENV,
  adapterLabel,
  prepareWebgpu,
  releaseWebgpu,
  type GpuAdapter,
} from './backend-webgpu'
import { createRequire } from 'node:module'
import path from 'node:path'

export type BackendName = 'node-gpu' | 'webgpu' | 'node' | 'native' | 'wasm' | 'cpu'
export type BackendPreference = 'auto' | BackendName
export const BACKEND_NAMES: readonly BackendName[] = ['node-gpu', 'webgpu', 'node', 'native', 'wasm', 'cpu']

export type { NativeInfo } from '../../native/index'
export type { GpuAdapter } from './backend-webgpu'
export {
  WEBGPU_FALLBACK_ENV,
  adapterLabel,
  assertFitsBinding,
  assertGpuHealthy as checkGpu,
  bindingLimitBytes,
  gpuPoolBytes,
  releaseGpuPool,
  setShapeBucket,
  shapeBucket,
} from './backend-webgpu'

export interface BackendInfo {
  name: BackendName
  /** Why this backend; for 'native' it ends with the BLAS library and thread count. */
  reason: string
  tried: { name: BackendName; error: string }[]
  /** The BLAS behind 'native' (only for that backend). */
  native?: NativeInfo
  /** The GPU behind 'webgpu' (only for that backend). */
  adapter?: GpuAdapter
}

/** What runs and checkpoints record: the name, plus the adapter for webgpu. */
export function backendLabel(info: BackendInfo): string {
  return info.adapter ? `${info.name} (${adapterLabel(info.adapter)})` : info.name
}

/** The addon's exports, typed once in native/index.d.ts; offsets are bytes into the heap. */
export type NativeAddon = typeof import('../../native/index')

// tfjs's own registry names for our backend names.
const TF_NAME: Record<BackendName, string> = {
  'node-gpu': 'tensorflow',
  webgpu: 'webgpu',
  node: 'tensorflow',
  native: 'wasm',
  wasm: 'wasm',
  cpu: 'cpu',
}

let current: BackendInfo | undefined
let wasmPatched = false
let matMulFixEnabled = true
// The addon once loaded (or why it failed), and whether the wasm kernels use it right now.
let addon: NativeAddon | undefined
let addonError: string | undefined
let nativeActive = false

/** Benchmarks only: switch fix (b) off to measure wasm's own transposed matMul. */
export function setWasmMatMulFix(enabled: boolean): void {
  matMulFixEnabled = enabled
}

/** What the addon must export; a stale build without one fails to load and says which (rebuild it). */
const NATIVE_FUNCTIONS = [
  'info',
  'setThreads',
  'sgemm',
  'softmaxCe',
  'spdInverse',
  'adam',
  'sumRows',
  'tanh',
  'layerNorm',
  'layerNormGrad',
  'gelu',
] as const

/**
 * The native addon, loaded once; throws why it is unavailable. CLLM4REC_NATIVE=0 disables it and
 * CLLM4REC_NATIVE_PATH loads another build (both read at the first call).
 */
export function loadNative(): NativeAddon {
  if (addon) return addon
  if (addonError === undefined) {
    try {
      if (process.env.CLLM4REC_NATIVE === '0') throw new Error('disabled by CLLM4REC_NATIVE=0')
      const require = createRequire(import.meta.url)
      // A variable name keeps bundlers from resolving this optional package at build time.
      const pkg = '@cllm4rec/native'
      const loaded = require(pkg) as Partial<NativeAddon>
      for (const fn of NATIVE_FUNCTIONS) {
        if (typeof loaded[fn] !== 'function') throw new Error(`not the workbench addon (no ${fn}())`)
      }
      addon = loaded as NativeAddon
      return addon
    } catch (err) {
      addonError = err instanceof Error ? err.message.split('\n')[0] : String(err)
    }
  }
  throw new Error(`@cllm4rec/native unavailable: ${addonError}`)
}

/** The addon when the current backend is 'native' (its kernels are active), else undefined. */
export function activeNative(): NativeAddon | undefined {
  return nativeActive && tf.getBackend() === 'wasm' ? addon : undefined
}

/** The backend chosen by the last successful initBackend call, or undefined before any. */
export function backendInfo(): BackendInfo | undefined {
  return current
}

export function isBackendPreference(s: string): s is BackendPreference {
  return s === 'auto' || (BACKEND_NAMES as readonly string[]).includes(s)
}

/**
 * Select a backend. An explicit preference must succeed (it throws otherwise, naming why); 'auto' tries
 * node-gpu, webgpu (a hardware adapter only), node, native, wasm, cpu in order. A software WebGPU adapter
 * is used only for an explicit 'webgpu' with CLLM4REC_WEBGPU_FALLBACK=1 (it serves correctness tests).
 * The env var CLLM4REC_BACKEND replaces 'auto' (never an explicit choice, so tests that compare two
 * backends stay exact). Calling again with the same result is a no-op.
 */
export function initBackend(prefer: BackendPreference = 'auto'): Promise<BackendInfo> {
  // One at a time: calls that overlap (two requests opening runs in the engine worker) would switch
  // tfjs's backend under each other and report one backend while another is active.
  const next = initQueue.then(() => initBackendNow(prefer))
  initQueue = next.catch(() => undefined)
  return next
}
let initQueue: Promise<unknown> = Promise.resolve()

async function initBackendNow(prefer: BackendPreference): Promise<BackendInfo> {
  let wanted = prefer
  let why = 'requested'
  const env = process.env.CLLM4REC_BACKEND
  if (prefer === 'auto' && env) {
    if (!isBackendPreference(env)) {
      throw new Error(`CLLM4REC_BACKEND="${env}" is not one of auto, ${BACKEND_NAMES.join(', ')}`)
    }
    wanted = env
    why = `CLLM4REC_BACKEND=${env}`
  }
  if (
    current &&
    (wanted === 'auto' || wanted === current.name) &&
    tf.getBackend() === TF_NAME[current.name] &&
    nativeActive === (current.name === 'native')
  ) {
    return current
  }
  const candidates = wanted === 'auto' ? BACKEND_NAMES : [wanted]
  const tried: BackendInfo['tried'] = []
  for (const name of candidates) {
    try {
      const adapter = await activate(name, wanted === 'webgpu' && process.env[WEBGPU_FALLBACK_ENV] === '1')
      let reason =
        wanted === 'auto'
          ? tried.length === 0
            ? 'first choice in auto order'
            : `auto: ${tried.map((t) => t.name).join(', ')} unavailable`
          : why
      current = { name, reason, tried }
      if (name === 'native' && addon) {
        const native = addon.info()
        const version = native.version.startsWith(native.library) ? native.version : native.library
        reason += `; ${version.split(' ').slice(0, 2).join(' ')}, ${native.threads} threads`
        current = { name, reason, tried, native }
      }
      if (adapter) current = { name, reason: `${reason}; ${adapterLabel(adapter)}`, tried, adapter }
      return current
    } catch (err) {
      tried.push({ name, error: err instanceof Error ? err.message : String(err) })
    }
  }
  const detail = tried.map((t) => `${t.name}: ${t.error}`).join('; ')
  throw new Error(`No TensorFlow.js backend could be started (${why} ${wanted}). ${detail}`)
}

/** Makes `name` tfjs's backend (or throws why not); returns the adapter for webgpu. */
async function activate(name: BackendName, allowFallback: boolean): Promise<GpuAdapter | undefined> {
  let adapter: GpuAdapter | undefined
  if (name === 'webgpu') {
    adapter = await prepareWebgpu(allowFallback)
  } else if (name === 'node-gpu' || name === 'node') {
    // A variable module name keeps TypeScript and bundlers from requiring these optional packages.
    const pkg = name === 'node-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node'
    await import(/* @vite-ignore */ pkg)
    if (!tf.findBackend('tensorflow')) {
      throw new Error(`${pkg} loaded but registered into a different @tensorflow/tfjs-core copy`)
    }
  } else if (name === 'wasm' || name === 'native') {
    // The addon is loaded before switching, so a failed 'native' leaves the current backend alone.
    if (name === 'native') loadNative()
    nativeActive = false
    const wasm = await import('@tensorflow/tfjs-backend-wasm')
    patchWasmKernels()
    // In Node the .wasm binaries are read from disk: point tfjs at the package's own dist folder.
    const require = createRequire(import.meta.url)
    const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))
    wasm.setWasmPaths(dist + path.sep)
  }
  const before = processHandlers()
  const ok = await tf.setBackend(TF_NAME[name])
  if (name === 'wasm' || name === 'native') removeEmscriptenHandlers(before)
  // setBackend can return false while getBackend() still names the backend: both are checked.
  if (!ok || tf.getBackend() !== TF_NAME[name]) {
    if (name === 'webgpu') releaseWebgpu()
    throw new Error(`tf.setBackend('${TF_NAME[name]}') failed`)
  }
  await tf.ready()
  if (name === 'wasm' || name === 'native') guardWasmMalloc((tf.backend() as unknown as WasmBackendLike).wasm)
  nativeActive = name === 'native'
  return adapter
}

/** The 4 GiB address space of wasm32 (emscripten's getHeapMax is 64 KiB below it). */
const WASM_HEAP_LIMIT = 2 ** 32
const guardedModules = new WeakSet<object>()

/**
 * wasm's malloc returns 0 when the heap cannot grow, and tfjs writes the tensor there anyway: the heap is
 * silently corrupted and fails much later ("null function or function signature mismatch"). Sizes near
 * or above 4 GiB wrap around to a small block. Both throw here, at the allocation, with the size.
 */
export function guardWasmMalloc(module: WasmModuleLike): void {
  if (guardedModules.has(module)) return
  guardedModules.add(module)
  // Emscripten's lazy export replaces Module._malloc with the raw one on its first call from anywhere:
  // one call now, so the wrapper below is never overwritten.
  module._free(module._malloc(8))
  const malloc = module._malloc
  const guarded = (bytes: number): number => {
    let ptr = bytes < WASM_HEAP_LIMIT ? malloc(bytes) : 0
    // Near 4 GiB, malloc's size arithmetic overflows and it hands back a small block: not the tensor's.
    if (ptr !== 0 && (ptr >>> 0) + bytes > module.HEAPU8.length) {
      module._free(ptr)
      ptr = 0
    }
    if (ptr === 0 && bytes > 0) {
      const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`
      throw new Error(
        `out of wasm memory: no room for a tensor of ${mib(bytes)} (heap now ${mib(module.HEAPU8.length)}, ` +
          `capped at 4 GiB); lower batchSize or maxLength`,
      )
    }
    return ptr
  }
  module._malloc = guarded
}

/**
 * Cooperative end of a GPU thread: call after the last readback has been awaited, before the thread
 * exits (terminating it during a pending GPU readback aborts the whole process). Harmless elsewhere.
 */
export async function shutdownBackend(): Promise<void> {
  if (current?.name !== 'webgpu') return
  await tf.setBackend('cpu')
  releaseWebgpu()
  current = undefined
}

type ProcessEvent = 'uncaughtException' | 'unhandledRejection'
const PROCESS_EVENTS: ProcessEvent[] = ['uncaughtException', 'unhandledRejection']

// Spelled out per event because process.listeners' overloads do not accept a union.
function listenersOf(e: ProcessEvent): unknown[] {
  return e === 'uncaughtException'
    ? process.listeners('uncaughtException')
    : process.listeners('unhandledRejection')
}

function processHandlers(): Map<ProcessEvent, Set<unknown>> {
  return new Map(PROCESS_EVENTS.map((e) => [e, new Set<unknown>(listenersOf(e))]))
}

/**
 * (c) The emscripten glue of the wasm module installs process handlers that rethrow every uncaught error
 * from inside its own minified source, so any crash printed ~40 kB of code instead of a stack trace.
 * Node's default handling is the same minus that noise, so the handlers added during init are removed.
 */
function removeEmscriptenHandlers(before: Map<ProcessEvent, Set<unknown>>): void {
  for (const e of PROCESS_EVENTS) {
    for (const l of listenersOf(e)) {
      if (!before.get(e)?.has(l))
        process.removeListener(e as 'uncaughtException', l as NodeJS.UncaughtExceptionListener)
    }
  }
}

/** Kernel registrations for wasm; done before the backend initialises so setup functions run once. */
function patchWasmKernels(): void {
  if (wasmPatched) return
  wasmPatched = true
  if (!tf.getKernel('UnsortedSegmentSum', 'wasm')) {
    tf.registerKernel({
      kernelName: 'UnsortedSegmentSum',
      backendName: 'wasm',
      kernelFunc: unsortedSegmentSumWasm,
    })
  }
  replaceWasmKernel(
    'BatchMatMul',
    (args, original) =>
      (nativeActive && addon ? batchMatMulNative(args, addon) : null) ??
      batchMatMulViaTranspose(args, original),
  )
  replaceWasmKernel('GatherV2', gatherRowsWasm)
  // Identity shares its input's buffer, as Reshape does and the cpu backend's Identity does: wasm's
  // copies, ~300 a RecLLM step (clones on the gradient tape), cost ~6 ms of it. No kernel writes its inputs.
  replaceWasmKernel('Identity', (args) => {
    const x = args.inputs.x as tf.TensorInfo
    if (x.dtype === 'string') return null
    ;(args.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId)
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype }
  })
  replaceWasmKernel('Slice', sliceWasm)
  replaceWasmKernel('SplitV', splitWasm)
  replaceWasmKernel('Sum', (args) => (nativeActive && addon ? sumLeadingAxesNative(args, addon) : null))
  replaceWasmKernel('Tanh', (args) => (nativeActive && addon ? tanhNative(args, addon) : null))
}

type KernelResult = tf.TensorInfo | tf.TensorInfo[]

/** Puts `impl` in front of a wasm kernel; where impl returns null, wasm's own kernel runs. */
function replaceWasmKernel(
  name: string,
  impl: (args: KernelArgs, original: tf.KernelFunc) => KernelResult | null,
): void {
  const original = tf.getKernel(name, 'wasm')
  if (!original) throw new Error(`wasm backend has no ${name} kernel to wrap`)
  tf.unregisterKernel(name, 'wasm')
  tf.registerKernel({
    kernelName: name,
    backendName: 'wasm',
    setupFunc: original.setupFunc,
    disposeFunc: original.disposeFunc,
    kernelFunc: (args) => impl(args, original.kernelFunc) ?? original.kernelFunc(args),
  })
}

/** Byte offset of a tensor's data in the wasm heap (what the addon's kernels take). */
export const heapOffset = (wb: WasmBackendLike, t: tf.TensorInfo) => wb.dataIdMap.get(t.dataId).memoryOffset

/**
 * Sum over a tensor's leading axes (bias and layer-norm gradients: [B·T, C] -> [C]) without wasm's
 * transpose-then-reduce; other axis sets stay on wasm.
 */
function sumLeadingAxesNative(args: KernelArgs, native: NativeAddon): tf.TensorInfo | null {
  const x = args.inputs.x as tf.TensorInfo
  const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean }
  if (x.dtype !== 'float32') return null
  const r = x.shape.length
  const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + r : a)))].sort(
    (a, b) => a - b,
  )
  if (axes.length === 0 || axes.length === r || axes.some((a, i) => a !== i)) return null
  const k = axes.length
  const rows = x.shape.slice(0, k).reduce((p, d) => p * d, 1)
  const cols = x.shape.slice(k).reduce((p, d) => p * d, 1)
  const wb = args.backend as unknown as WasmBackendLike
  const out = wb.makeOutput(keepDims ? x.shape.map((d, i) => (i < k ? 1 : d)) : x.shape.slice(k), 'float32')
  native.sumRows(wb.wasm.HEAPU8, heapOffset(wb, x), rows, cols, heapOffset(wb, out))
  return out
}

/** Elementwise tanh (GELU's) in one vectorised pass. */
function tanhNative(args: KernelArgs, native: NativeAddon): tf.TensorInfo | null {
  const x = args.inputs.x as tf.TensorInfo
  if (x.dtype !== 'float32') return null
  const wb = args.backend as unknown as WasmBackendLike
  const out = wb.makeOutput(x.shape, 'float32')
  const n = x.shape.reduce((p, d) => p * d, 1)
  native.tanh(wb.wasm.HEAPU8, heapOffset(wb, x), n, heapOffset(wb, out))
  return out
}

type KernelArgs = Parameters<tf.KernelFunc>[0]
export type WasmBackendLike = {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array
  disposeData(dataId: object): boolean
  dataIdMap: { get(dataId: object): { memoryOffset: number } }
  wasm: WasmModuleLike
}
export type WasmModuleLike = { HEAPU8: Uint8Array; _malloc(bytes: number): number; _free(ptr: number): void }

/**
 * BatchMatMul by the addon's sgemm on the tensors' own heap bytes, for every transpose flag; batch dims
 * broadcast as in tfjs (equal sizes, or one side of size 1). Returns null for cases left to wasm.
 */
function batchMatMulNative(args: KernelArgs, native: NativeAddon): tf.TensorInfo | null {
  const { inputs, backend, attrs } = args
  const a = inputs.a as tf.TensorInfo
  const b = inputs.b as tf.TensorInfo
  const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean }
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null
  const ra = a.shape.length
  const rb = b.shape.length
  if (ra < 2 || rb < 2) return null
  const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2]
  const K = transposeA ? a.shape[ra - 2] : a.shape[ra - 1]
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2]
  const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1]
  if (K !== kb) return null // wasm's kernel throws the standard message
  const batchA = a.shape.slice(0, -2).reduce((p, d) => p * d, 1)
  const batchB = b.shape.slice(0, -2).reduce((p, d) => p * d, 1)
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return null
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2))
  const wb = backend as unknown as WasmBackendLike
  // Allocate first: heap growth replaces the buffer, so the heap view is taken afterwards.
  const out = wb.makeOutput([...outer, M, N], 'float32')
  const at = (t: tf.TensorInfo) => wb.dataIdMap.get(t.dataId).memoryOffset
  native.sgemm(
    wb.wasm.HEAPU8,
    at(a),
    at(b),
    at(out),
    Math.max(batchA, batchB),
    M,
    N,
    K,
    transposeA,
    transposeB,
    batchA === 1 ? 0 : M * K,
    batchB === 1 ? 0 : K * N,
  )
  return out
}

/**
 * (b) Transposed operands are transposed explicitly (a fast copy kernel) and then multiplied plainly,
 * because the wasm matmul walks a transposed operand with a cache-hostile stride.
 */
function batchMatMulViaTranspose(args: KernelArgs, plain: tf.KernelFunc): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, backend, attrs } = args
  const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean }
  if ((!transposeA && !transposeB) || !matMulFixEnabled) return plain(args)
  const transpose = tf.getKernel('Transpose', 'wasm')
  if (!transpose) throw new Error('wasm backend has no Transpose kernel')
  const swapLast = (t: tf.TensorInfo): tf.TensorInfo => {
    const r = t.shape.length
    const perm = [...Array(r).keys()]
    perm[r - 2] = r - 1
    perm[r - 1] = r - 2
    return transpose.kernelFunc({ inputs: { x: t }, backend, attrs: { perm } }) as tf.TensorInfo
  }
  const a = transposeA ? swapLast(inputs.a as tf.TensorInfo) : (inputs.a as tf.TensorInfo)
  const b = transposeB ? swapLast(inputs.b as tf.TensorInfo) : (inputs.b as tf.TensorInfo)
  try {
    return plain({ inputs: { a, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } })
  } finally {
    const wb = backend as unknown as WasmBackendLike
    if (transposeA) wb.disposeData(a.dataId)
    if (transposeB) wb.disposeData(b.dataId)
  }
}

/**
 * (c) Row gather (axis 0, no batch dims: every embedding lookup) as one row copy per index. wasm's
 * generic kernel walks 4-D strides per element: 2.4-3 ms for 1,360 rows of 64 floats in a RecLLM step.
 */
function gatherRowsWasm(args: KernelArgs): tf.TensorInfo | null {
  const x = args.inputs.x as tf.TensorInfo
  const indices = args.inputs.indices as tf.TensorInfo
  const { axis, batchDims } = args.attrs as unknown as { axis: number; batchDims: number }
  const r = x.shape.length
  if ((axis !== 0 && axis !== -r) || batchDims !== 0 || r < 1 || x.dtype === 'string') return null
  if (indices.dtype !== 'int32' || x.shape.some((d) => d === 0)) return null
  const wb = args.backend as unknown as WasmBackendLike
  const rows = x.shape[0]
  const inner = x.shape.slice(1).reduce((p, d) => p * d, 1)
  const out = wb.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype)
  const iv = wb.typedArrayFromHeap(indices)
  for (let i = 0; i < iv.length; i++) {
    if (!(iv[i] >= 0 && iv[i] < rows)) {
      wb.disposeData(out.dataId)
      throw new Error(`GatherV2: the index value ${iv[i]} is not in [0, ${rows - 1}]`)
    }
  }
  const xv = wb.typedArrayFromHeap(x)
  const ov = wb.typedArrayFromHeap(out)
  for (let i = 0; i < iv.length; i++) ov.set(xv.subarray(iv[i] * inner, (iv[i] + 1) * inner), i * inner)
  return out
}

/**
 * (d) Slice from the heap in place: wasm's kernel first copies the whole input out of the heap
 * (readSync), once per slice, so splitting q/k/v copied the [B, T, 3C] tensor three times.
 */
function sliceWasm(args: KernelArgs): tf.TensorInfo | null {
  const x = args.inputs.x as tf.TensorInfo
  if (x.dtype === 'string') return null
  const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] }
  const [b, sz] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size)
  const wb = args.backend as unknown as WasmBackendLike
  const out = wb.makeOutput(sz, x.dtype)
  const n = sz.reduce((p, d) => p * d, 1)
  if (n === 0) return out
  const xv = wb.typedArrayFromHeap(x)
  const ov = wb.typedArrayFromHeap(out)
  const r = x.shape.length
  const strides = tf.util.computeStrides(x.shape)
  const run = sz[r - 1] // contiguous elements per output row
  const rows = n / run
  const idx = new Array<number>(Math.max(0, r - 1)).fill(0)
  for (let row = 0; row < rows; row++) {
    let src = b[r - 1]
    for (let d = 0; d < r - 1; d++) src += (b[d] + idx[d]) * strides[d]
    const dst = row * run
    if (run < 32) for (let j = 0; j < run; j++) ov[dst + j] = xv[src + j]
    else ov.set(xv.subarray(src, src + run), dst)
    for (let d = r - 2; d >= 0; d--) {
      if (++idx[d] < sz[d]) break
      idx[d] = 0
    }
  }
  return out
}

/** SplitV as slices of (d) (wasm's SplitV calls its own copying slice directly). */
function splitWasm(args: KernelArgs): tf.TensorInfo[] | null {
  const x = args.inputs.x as tf.TensorInfo
  if (x.dtype === 'string') return null
  const { numOrSizeSplits, axis } = args.attrs as unknown as {
    numOrSizeSplits: number | number[]
    axis: number
  }
  const ax = tf.util.parseAxisParam(axis, x.shape)[0]
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax)
  const begin = new Array<number>(x.shape.length).fill(0)
  return sizes.map((s) => {
    const size = [...x.shape]
    size[ax] = s
    const part = sliceWasm({ ...args, inputs: { x }, attrs: { begin: [...begin], size } }) as tf.TensorInfo
    begin[ax] += s
    return part
  })
}

/**
 * (a) out[s, ...] = sum of x[i, ...] over i with segmentIds[i] = s. Ids may repeat and come in any
 * order; negative ids are dropped (TensorFlow semantics); ids >= numSegments are an error.
 */
function unsortedSegmentSumWasm(args: KernelArgs): tf.TensorInfo {
  const { inputs, backend, attrs } = args
  const x = inputs.x as tf.TensorInfo
  const ids = inputs.segmentIds as tf.TensorInfo
  const numSegments = (attrs as unknown as { numSegments: number }).numSegments
  const idRank = ids.shape.length
  const nIds = ids.shape.reduce((p, d) => p * d, 1)
  for (let i = 0; i < idRank; i++) {
    if (ids.shape[i] !== x.shape[i]) {
      throw new Error(`UnsortedSegmentSum: segmentIds shape [${ids.shape}] is not a prefix of x [${x.shape}]`)
    }
  }
  const inner = x.shape.slice(idRank).reduce((p, d) => p * d, 1)
  const outShape = [numSegments, ...x.shape.slice(idRank)]
  const wb = backend as unknown as WasmBackendLike
  // Allocate first: heap growth would detach views taken earlier.
  const out = wb.makeOutput(outShape, x.dtype)
  const xv = wb.typedArrayFromHeap(x)
  const iv = wb.typedArrayFromHeap(ids)
  const ov = wb.typedArrayFromHeap(out)
  ov.fill(0)
  for (let i = 0; i < nIds; i++) {
    const s = iv[i]
    if (s < 0) continue
    if (s >= numSegments) throw new Error(`UnsortedSegmentSum: segment id ${s} >= numSegments ${numSegments}`)
    const src = i * inner
    const dst = s * inner
    for (let j = 0; j < inner; j++) ov[dst + j] += xv[src + j]
  }
  return out
}
