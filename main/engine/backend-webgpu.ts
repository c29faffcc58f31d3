// The 'webgpu' backend: tfjs-backend-webgpu on Dawn for Node (the optional `webgpu` package), with the
// device created here so its validation errors are caught and its adapter is known (DESIGN:
// engine/backend.ts keeps every backend workaround; this file is its WebGPU half).
// Facts this code is built on: Dawn only logs a validation error (e.g. a buffer over the binding limit)
// and the results are silently wrong, so 'uncapturederror' is recorded and fails the next readback;
// navigator.gpu must exist before the backend module loads; Electron forbids the external ArrayBuffers
// Dawn's getMappedRange returns; the buffer pool never shrinks and matches sizes exactly.
import * as tf from '@tensorflow/tfjs'
import fs from 'node:fs'
import path from 'node:path'

/** The adapter behind the 'webgpu' backend, as Dawn describes it. */
export interface GpuAdapter {
  vendor: string
  architecture: string
  device: string
  description: string
  /** A software (fallback) adapter such as lavapipe or SwiftShader. */
  fallback: boolean
  /** Largest storage buffer one kernel may bind on the device (bytes); above it results are wrong. */
  maxStorageBufferBindingSize: number
}

/** Environment switch that lets an explicit 'webgpu' request take a software adapter. */
export const WEBGPU_FALLBACK_ENV = 'CLLM4REC_WEBGPU_FALLBACK'
/** Optional cap (bytes, >= 128 MiB in effect) on the device's storage-buffer binding size (tests). */
export const WEBGPU_BINDING_ENV = 'CLLM4REC_WEBGPU_BINDING_LIMIT'

// Minimal views of the WebGPU objects used here (the app does not depend on @webgpu/types).
interface GpuDeviceLike {
  addEventListener(type: 'uncapturederror', fn: (e: { error: { message: string } }) => void): void
  lost: Promise<{ reason: string; message: string }>
  limits: Record<string, number>
  destroy(): void
}
interface GpuAdapterLike {
  info: Record<string, unknown>
  isFallbackAdapter?: boolean
  features: { has(f: string): boolean }
  limits: Record<string, number>
  requestDevice(d: object): Promise<GpuDeviceLike>
}
interface GpuLike {
  requestAdapter(o?: object): Promise<GpuAdapterLike | null>
}
interface WebgpuPackage {
  create(flags: string[]): GpuLike
  globals: Record<string, unknown>
}

let gpu: GpuLike | undefined
let device: GpuDeviceLike | undefined
let adapter: GpuAdapter | undefined
let rawInfo: Record<string, unknown> | undefined
let gpuError: string | undefined
let registered = false

/** Why webgpu cannot run in this process, or undefined where it can be tried. */
function unsupportedHere(): string | undefined {
  if (process.versions.electron) {
    return "Electron forbids the external ArrayBuffers Dawn's readback returns (use the CLI or browser mode)"
  }
  if (process.platform === 'linux' && !vulkanLoaderFound(readLdCache(), process.env.LD_LIBRARY_PATH ?? '')) {
    // Dawn would print a Vulkan warning to stderr on every start and then find nothing.
    return 'no Vulkan loader (libvulkan.so.1) on this machine'
  }
  return undefined
}

const VULKAN_LOADER = 'libvulkan.so.1'
const LIBRARY_DIRS = [
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
  '/usr/local/lib',
]

function readLdCache(): Buffer | null {
  try {
    return fs.readFileSync('/etc/ld.so.cache')
  } catch {
    return null
  }
}

/**
 * Whether the dynamic loader can find Linux's Vulkan loader: in LD_LIBRARY_PATH, in ld.so.cache or in
 * a usual library folder. An unreadable cache counts as found (Dawn then decides).
 */
export function vulkanLoaderFound(
  ldCache: Buffer | null,
  ldLibraryPath: string,
  exists: (file: string) => boolean = fs.existsSync,
): boolean {
  const dirs = [...ldLibraryPath.split(':').filter(Boolean), ...LIBRARY_DIRS]
  if (dirs.some((d) => exists(path.join(d, VULKAN_LOADER)))) return true
  return ldCache === null || ldCache.includes(VULKAN_LOADER)
}

/** Dawn's instance, created once; navigator.gpu and the GPU* constants are set for the tfjs module. */
async function dawn(): Promise<GpuLike> {
  if (gpu) return gpu
  // A variable name keeps bundlers from resolving this optional package at build time.
  const pkgName = 'webgpu'
  const pkg = (await import(/* @vite-ignore */ pkgName)) as WebgpuPackage
  Object.assign(globalThis, pkg.globals)
  gpu = pkg.create([])
  const g = globalThis as { navigator?: { gpu?: unknown } }
  if (!g.navigator) g.navigator = { gpu }
  else Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true })
  return gpu
}

function describe(a: GpuAdapterLike): GpuAdapter {
  const s = (k: string) => (typeof a.info[k] === 'string' ? (a.info[k] as string) : '')
  const fallback =
    a.info.isFallbackAdapter === true || a.isFallbackAdapter === true || s('architecture') === 'software'
  return {
    vendor: s('vendor'),
    architecture: s('architecture'),
    device: s('device'),
    description: s('description'),
    fallback,
    maxStorageBufferBindingSize: a.limits.maxStorageBufferBindingSize,
  }
}

/** One line naming the adapter, e.g. "mesa software, llvmpipe: Mesa 25.0.7 (software)". */
export function adapterLabel(a: GpuAdapter): string {
  const head = [a.vendor, a.architecture].filter(Boolean).join(' ') || 'unknown adapter'
  const desc = a.description || a.device
  return `${head}${desc ? `, ${desc}` : ''}${a.fallback ? ' (software)' : ''}`
}

async function openDevice(allowFallback: boolean): Promise<void> {
  const why = unsupportedHere()
  if (why) throw new Error(why)
  const found = await (await dawn()).requestAdapter({ powerPreference: 'high-performance' })
  if (!found) throw new Error('Dawn found no WebGPU adapter (no Vulkan, Metal or D3D12 device)')
  const info = describe(found)
  if (info.fallback && !allowFallback) {
    throw new Error(
      `only a software adapter (${adapterLabel(info)}); ask for --backend webgpu with ${WEBGPU_FALLBACK_ENV}=1 to use it`,
    )
  }
  // The limits tfjs-backend-webgpu asks for itself, raised to what the adapter offers.
  const l = found.limits
  const requiredLimits = Object.fromEntries(
    [
      'maxComputeWorkgroupStorageSize',
      'maxComputeWorkgroupsPerDimension',
      'maxStorageBufferBindingSize',
      'maxBufferSize',
      'maxComputeWorkgroupSizeX',
      'maxComputeInvocationsPerWorkgroup',
    ].map((k) => [k, l[k]]),
  )
  const cap = Number(process.env[WEBGPU_BINDING_ENV])
  if (cap > 0) requiredLimits.maxStorageBufferBindingSize = Math.min(cap, l.maxStorageBufferBindingSize)
  const dev = await found.requestDevice({ requiredLimits, requiredFeatures: [] })
  gpuError = undefined
  dev.addEventListener('uncapturederror', (e) => {
    gpuError ??= e.error.message.split('\n')[0]
  })
  void dev.lost.then((lost) => {
    if (device === dev) gpuError ??= `device lost (${lost.reason}): ${lost.message}`
  })
  device = dev
  // The device's own limit (a cap below WebGPU's 128 MiB default is raised to it).
  adapter = { ...info, maxStorageBufferBindingSize: dev.limits.maxStorageBufferBindingSize }
  rawInfo = found.info
}

/**
 * Opens the device (once) and registers tfjs's 'webgpu' backend on it; the caller then calls
 * tf.setBackend('webgpu'). A software adapter is refused unless allowFallback.
 */
export async function prepareWebgpu(allowFallback: boolean): Promise<GpuAdapter> {
  if (!device || !adapter || gpuError) {
    if (device) releaseWebgpu()
    await openDevice(allowFallback)
  } else if (adapter.fallback && !allowFallback) {
    throw new Error(`only a software adapter (${adapterLabel(adapter)})`)
  }
  if (!registered) {
    const mod = await import('@tensorflow/tfjs-backend-webgpu')
    // The module registers its own factory (its own adapter and device); ours replaces it.
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu')
    type Args = ConstructorParameters<typeof mod.WebGPUBackend>
    const dev = device as unknown as Args[0]
    const info = rawInfo as unknown as Args[1]
    tf.registerBackend('webgpu', () => new mod.WebGPUBackend(dev, info))
    registered = true
  }
  return adapter!
}

/** Largest tensor (bytes) a kernel may bind on the current backend: the adapter's limit on webgpu. */
export function bindingLimitBytes(): number {
  return tf.getBackend() === 'webgpu' && adapter ? adapter.maxStorageBufferBindingSize : Infinity
}

/**
 * Throws, naming the tensor and what to change, when one tensor of `bytes` would exceed the GPU's
 * binding limit (there Dawn computes nothing and only logs). A no-op off webgpu.
 */
export function assertFitsBinding(what: string, bytes: number, change: string): void {
  const limit = bindingLimitBytes()
  if (bytes <= limit) return
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`
  throw new Error(
    `${what} needs ${mib(bytes)} in one GPU buffer, over this adapter's binding limit of ${mib(limit)}: ${change}`,
  )
}

let bucketOverride: number | undefined

/**
 * Tests only: the same bucket on every backend, so a cpu run draws the same dropout masks (their shape
 * includes T) as a webgpu run; undefined restores the default.
 */
export function setShapeBucket(bucket: number | undefined): void {
  bucketOverride = bucket
}

/** Sequence-length bucket for packed batches: 16 on webgpu (its buffer pool matches sizes), else 1. */
export function shapeBucket(): number {
  return bucketOverride ?? (tf.getBackend() === 'webgpu' ? 16 : 1)
}

/** The adapter of the open device, if any. */
export function webgpuAdapter(): GpuAdapter | undefined {
  return adapter
}

/**
 * Throws the first WebGPU validation error or device loss since the device opened: called after each
 * readback, so a run whose results may be wrong stops instead of reporting them.
 */
export function assertGpuHealthy(): void {
  if (gpuError !== undefined && tf.getBackend() === 'webgpu') {
    throw new Error(`WebGPU error (results cannot be trusted, run stopped): ${gpuError}`)
  }
}

interface BufferPool {
  freeBuffers: Map<string, { size: number; destroy(): void }[]>
  numFreeBuffers: number
  numBytesAllocated: number
}

/**
 * Destroys the pooled buffers no tensor uses. The pool matches buffers by exact size and never
 * shrinks, so it is released between stages (whose shapes differ).
 */
export function releaseGpuPool(): number {
  if (tf.getBackend() !== 'webgpu') return 0
  const backend = tf.backend() as unknown as {
    bufferManager: BufferPool
    commandEncoder: object | null
    submitQueue(): void
  }
  // Recorded work is submitted first (WebGPU lets a destroyed buffer finish submitted work only), which
  // also returns the buffers of tensors disposed since to the pool.
  if (backend.commandEncoder) backend.submitQueue()
  const pool = backend.bufferManager
  let freed = 0
  // Keys stay (releaseBuffer skips pooling when the map is empty); only their arrays are emptied.
  for (const list of pool.freeBuffers.values()) {
    for (const b of list) {
      freed += b.size
      b.destroy()
    }
    list.length = 0
  }
  pool.numFreeBuffers = 0
  pool.numBytesAllocated -= freed
  return freed
}

/** Bytes the webgpu pool holds (used + free) and bytes live tensors use. */
export function gpuPoolBytes(): { allocated: number; used: number } {
  if (tf.getBackend() !== 'webgpu') return { allocated: 0, used: 0 }
  const pool = (
    tf.backend() as unknown as { bufferManager: { numBytesAllocated: number; numBytesUsed: number } }
  ).bufferManager
  return { allocated: pool.numBytesAllocated, used: pool.numBytesUsed }
}

/**
 * Cooperative shutdown: after every readback has been awaited, removes the backend and destroys the
 * device so the thread can exit (terminating a worker during a pending mapAsync aborts the process).
 */
export function releaseWebgpu(): void {
  if (registered) {
    tf.removeBackend('webgpu')
    registered = false
  }
  device?.destroy()
  device = undefined
  adapter = undefined
}
