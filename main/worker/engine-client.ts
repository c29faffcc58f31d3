// Main's side of the engine worker: one lazily started thread, calls matched to replies by id, and a
// restart after a crash (pending calls fail with the crash message rather than hanging).
import { Worker } from 'node:worker_threads'
import { ApiError } from '../api/validate'
import { parseEngineReply, type EngineCall } from './engine-messages'
import { workerEntry } from './run-manager'

export class EngineClient {
  private worker: Worker | undefined
  private nextId = 1
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; progress?: (p: unknown) => void }
  >()

  constructor(private readonly spawn: () => Worker = () => workerEntry('engine-worker')) {}

  private start(): Worker {
    if (this.worker) return this.worker
    const w = this.spawn()
    w.on('message', (raw: unknown) => {
      const m = parseEngineReply(raw)
      const p = this.pending.get(m.id)
      if (!p) return
      if (m.type === 'progress') {
        p.progress?.(m.progress)
        return
      }
      this.pending.delete(m.id)
      if (this.pending.size === 0) w.unref()
      if (m.type === 'result') p.resolve(m.value)
      else p.reject(m.status ? new ApiError(m.message, m.status as 400 | 404 | 409) : new Error(m.message))
    })
    const fail = (why: string): void => {
      this.worker = undefined
      for (const p of this.pending.values()) p.reject(new Error(`engine worker stopped: ${why}`))
      this.pending.clear()
    }
    w.on('error', (err) => fail(err.message))
    w.on('exit', (code) => fail(`exit code ${code}`))
    this.worker = w
    return w
  }

  call<T>(c: EngineCall, onProgress?: (p: unknown) => void): Promise<T> {
    const w = this.start()
    const id = this.nextId++
    // Referenced only while a call is pending: an idle engine worker must not keep the process alive.
    w.ref()
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, progress: onProgress })
      w.postMessage({ type: 'call', id, ...c })
    })
  }

  /**
   * Cooperative stop: the worker finishes its calls and closes its GPU device before it is terminated
   * (a terminate during a pending GPU readback aborts the process); it gets `graceMs` to do so.
   */
  async close(graceMs = 10_000): Promise<void> {
    const w = this.worker
    this.worker = undefined
    if (!w) return
    const id = this.nextId++
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, graceMs)
      const done = (): void => {
        clearTimeout(timer)
        resolve()
      }
      this.pending.set(id, { resolve: done, reject: done })
      w.ref()
      w.postMessage({ type: 'shutdown', id })
    })
    await w.terminate()
  }
}
