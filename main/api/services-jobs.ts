// One-off job workers for imports and demo datasets: the worker-side functions (each opens its own
// connection beside main's, WAL) and main's runner, which gives every job a fresh worker with a heap
// cap so a job that dies (out of memory, a crash) fails alone while main keeps serving.
import { createHash } from 'node:crypto'
import os from 'node:os'
import { generateDemoDataset } from '../data/demo'
import type { ImportProgress } from '../data/progress'
import { computeStats } from '../data/stats'
import type { RecDataset } from '../data/types'
import * as store from '../store'
import { EngineClient } from '../worker/engine-client'
import type { EngineCall } from '../worker/engine-messages'
import { workerEntry } from '../worker/run-manager'
import { ApiError } from './validate'

/** Worker side: one import into the database with the worker's own connection (WAL beside main). */
export async function importDatasetToDb(
  dbPath: string,
  file: string,
  options: Record<string, unknown>,
  signal: AbortSignal,
  onProgress: (p: ImportProgress) => void,
): Promise<{ datasetId: number; warnings: string[] }> {
  const s = store.openStore(dbPath)
  try {
    const r = await store.importDataset(s, {
      ...(options as Omit<store.ImportDatasetOptions, 'path'>),
      path: file,
      signal,
      onProgress,
    })
    return { datasetId: r.datasetId, warnings: r.warnings }
  } finally {
    s.close()
  }
}

export interface DemoArgs {
  seed: number
  users?: number
  items?: number
}

/** The same demo requested twice at once: the second finds the first's. */
function stored(fn: () => number): number {
  try {
    return fn()
  } catch (err) {
    if (err instanceof store.DuplicateImportError) return err.existing.id
    if (err instanceof store.StoreError) throw new ApiError(err.message, 409)
    throw err
  }
}

/** Worker side: generates a demo dataset and stores it (an identical earlier one is reused). */
export function createDemoDatasetInDb(dbPath: string, o: DemoArgs): { datasetId: number } {
  let dataset: RecDataset
  try {
    dataset = generateDemoDataset(o)
  } catch (err) {
    // The generator's own limits (e.g. too few items for the interactions per user) are bad input.
    throw new ApiError((err as Error).message)
  }
  const fileHash = createHash('sha256')
    .update(JSON.stringify({ demo: 1, ...o }))
    .digest('hex')
  const s = store.openStore(dbPath)
  try {
    const existing = store.findByFileHash(s, fileHash)
    if (existing) return { datasetId: existing.id }
    const name = `demo-seed${o.seed}-${dataset.userIds.length}x${dataset.itemIds.length}`
    const id = stored(() =>
      store.insertDataset(s, {
        dataset: { ...dataset, name },
        stats: computeStats(dataset),
        source: 'generated demo',
        format: 'demo',
        fileHash,
        options: { ...o },
      }),
    )
    return { datasetId: id }
  } finally {
    s.close()
  }
}

/**
 * Heap cap of the one-off import / demo workers: half the machine's memory (at least 1 GiB), so a
 * runaway parse ends that worker with a clear error instead of the OS killing the whole server.
 */
export const JOB_HEAP_MB = Math.max(1024, Math.floor(os.totalmem() / 2 ** 21))

/**
 * One call in a fresh worker with a heap cap, closed afterwards. A worker that dies (out of memory,
 * a crash) fails only this call, with a message saying what it was doing; main keeps serving.
 */
export async function runInJobWorker<T>(
  heapMb: number,
  what: string,
  call: EngineCall,
  onProgress?: (p: unknown) => void,
  register?: (client: EngineClient) => void,
): Promise<T> {
  const client = new EngineClient(() =>
    workerEntry('engine-worker', { resourceLimits: { maxOldGenerationSizeMb: heapMb } }),
  )
  register?.(client)
  try {
    return await client.call<T>(call, onProgress)
  } catch (err) {
    if (err instanceof ApiError) throw err
    const msg = err instanceof Error ? err.message : String(err)
    if (/memory limit|out of memory/i.test(msg))
      throw new ApiError(
        `${what}: its worker ran out of memory (heap limit ${heapMb} MiB) and was stopped; nothing was stored`,
        400,
      )
    if (/^engine worker stopped/.test(msg))
      throw new ApiError(`${what}: its worker stopped unexpectedly (${msg}); nothing was stored`, 503)
    throw err
  } finally {
    await client.close()
  }
}

/**
 * Running cancellable jobs by key (a dataset's baselines, a run's breakdown): one at a time per key, each
 * with a flag in shared memory that its worker reads at every check of its signal.
 */
export class CancelFlags {
  private readonly flags = new Map<number, Int32Array>()

  /** A new flag for key; a 409 saying `busy` while one is still open. */
  open(key: number, busy: string): SharedArrayBuffer {
    if (this.flags.has(key)) throw new ApiError(busy, 409)
    const buffer = new SharedArrayBuffer(4)
    this.flags.set(key, new Int32Array(buffer))
    return buffer
  }

  cancelled(key: number): boolean {
    const flag = this.flags.get(key)
    return flag !== undefined && Atomics.load(flag, 0) === 1
  }

  close(key: number): void {
    this.flags.delete(key)
  }

  /** A 404 saying `none` where no job runs under key. */
  cancel(key: number, none: string): void {
    const flag = this.flags.get(key)
    if (!flag) throw new ApiError(none, 404)
    Atomics.store(flag, 0, 1)
  }

  cancelAll(): void {
    for (const flag of this.flags.values()) Atomics.store(flag, 0, 1)
  }
}
