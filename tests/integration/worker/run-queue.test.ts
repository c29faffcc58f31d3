// The training worker and run queue with a real worker thread and the real BPR self-check trainer:
// one run at a time in FIFO order, progress/metric/checkpoint messages, cancel, resume from the last
// checkpoint, interruption at exit, and strict message parsing.
import { describe, expect, it } from 'vitest'
import type { AppEvent } from '../../../preload/api'
import { EventBus } from '../../../main/api/events'
import { parseFromWorker, parseToWorker } from '../../../main/worker/messages'
import { RunManager, spawnTrainingWorker } from '../../../main/worker/run-manager'
import { MemoryRuns, runInput } from './memory-runs'
import { until } from './test-app'

function record(bus: EventBus): AppEvent[] {
  const events: AppEvent[] = []
  bus.on((e) => events.push(e))
  return events
}

describe('worker messages', () => {
  it('rejects unknown message types in both directions', () => {
    expect(() => parseToWorker({ type: 'explode', runId: 1 })).toThrow(/unknown message type 'explode'/)
    expect(() => parseFromWorker({ type: 'hello', runId: 1 })).toThrow(/unknown message type 'hello'/)
    expect(() => parseFromWorker('done')).toThrow(/not an object/)
    expect(() => parseFromWorker({ type: 'done' })).toThrow(/lacks runId/)
    expect(parseToWorker({ type: 'cancel', runId: 3 })).toEqual({ type: 'cancel', runId: 3 })
  })

  it('the real worker fails loudly on an unknown message type', async () => {
    const w = spawnTrainingWorker()
    const err = await new Promise<Error>((resolve) => {
      w.on('error', resolve)
      w.postMessage({ type: 'explode', runId: 1 })
    })
    expect(err.message).toMatch(/unknown message type 'explode'/)
    await w.terminate()
  })
})

describe('run queue', () => {
  it('trains to completion with progress, metrics, a checkpoint and test metrics', async () => {
    const store = new MemoryRuns({ epochs: 3, dim: 8 })
    const bus = new EventBus()
    const events = record(bus)
    const runs = new RunManager(store, bus)
    const id = await runs.start(runInput())
    await until(() => store.statusOf(id) === 'done' || store.statusOf(id) === 'failed')
    await runs.idle()
    const r = store.runs.get(id)!
    expect(r.error).toBeUndefined()
    expect(r.status).toBe('done')
    const statuses = events
      .filter((e) => e.type === 'run.status')
      .map((e) => (e as { status: string }).status)
    expect(statuses).toEqual(['queued', 'running', 'done'])
    const progress = events.filter((e) => e.type === 'run.progress')
    expect(progress.length).toBeGreaterThan(0)
    const last = progress.at(-1) as Extract<AppEvent, { type: 'run.progress' }>
    expect(last.fraction).toBe(1)
    expect(last.etaSec).toBe(0)
    expect(r.metrics.filter((m) => m.name === 'loss')).toHaveLength(3)
    expect(r.checkpoints.map((c) => c.epoch)).toEqual([1, 2, 3])
    expect(r.result!.test.recall20).toBeGreaterThan(0)
    expect(r.result!.test.recall20).toBeLessThanOrEqual(1)
  })

  it('runs one at a time in FIFO order and cancels a queued run without starting it', async () => {
    const store = new MemoryRuns({ epochs: 2, dim: 4, stepDelayMs: 5 })
    const bus = new EventBus()
    const events = record(bus)
    const runs = new RunManager(store, bus)
    const a = await runs.start(runInput())
    const b = await runs.start(runInput())
    const c = await runs.start(runInput())
    expect(runs.activeRun()).toBe(a)
    expect(runs.queued()).toEqual([b, c])
    await runs.cancel(b)
    expect(store.statusOf(b)).toBe('cancelled')
    await until(() => store.statusOf(c) === 'done')
    await runs.idle()
    const running = events.flatMap((e) =>
      e.type === 'run.status' && e.status === 'running' ? [e.runId] : [],
    )
    expect(running).toEqual([a, c])
    expect(store.runs.get(b)!.starts).toBe(0)
    // Never two at once: replaying the status events, at most one run is 'running' at any moment.
    const live = new Set<number>()
    for (const e of events) {
      if (e.type !== 'run.status') continue
      if (e.status === 'running') live.add(e.runId)
      else live.delete(e.runId)
      expect(live.size).toBeLessThanOrEqual(1)
    }
  })

  it('cancels a running run and resumes it from its last checkpoint', async () => {
    const store = new MemoryRuns({ epochs: 4, dim: 8, stepDelayMs: 20 })
    const bus = new EventBus()
    const events = record(bus)
    const runs = new RunManager(store, bus)
    const id = await runs.start(runInput())
    await until(() => store.runs.get(id)!.checkpoints.length >= 1)
    await runs.cancel(id)
    expect(store.statusOf(id)).toBe('cancelled')
    const kept = store.runs.get(id)!.checkpoints.length
    expect(kept).toBeGreaterThanOrEqual(1)
    expect(kept).toBeLessThan(4)
    const resumeFrom = store.runs.get(id)!.checkpoints.at(-1)!.epoch
    const before = events.length
    await runs.resume(id)
    await until(() => store.statusOf(id) === 'done' || store.statusOf(id) === 'failed')
    await runs.idle()
    expect(store.runs.get(id)!.error).toBeUndefined()
    expect(store.statusOf(id)).toBe('done')
    // After resuming, training continues at the checkpoint's epoch instead of starting over.
    const after = events.slice(before).filter((e) => e.type === 'run.progress') as Extract<
      AppEvent,
      { type: 'run.progress' }
    >[]
    expect(Math.min(...after.map((p) => p.epoch))).toBe(resumeFrom)
    expect(
      store.runs
        .get(id)!
        .checkpoints.map((c) => c.epoch)
        .slice(kept),
    ).toEqual([1, 2, 3, 4].filter((e) => e > resumeFrom))
    await expect(runs.resume(id)).rejects.toThrow(/only interrupted, cancelled or failed/)
  })

  it('resumes a run whose cancelled status arrived while its worker is still stopping', async () => {
    const store = new MemoryRuns({ epochs: 4, dim: 8, stepDelayMs: 20 })
    const bus = new EventBus()
    const runs = new RunManager(store, bus)
    const id = await runs.start(runInput())
    await until(() => store.runs.get(id)!.checkpoints.length >= 1)
    // As the UI does: the 'cancelled' status event enables Resume before the worker has exited.
    let resuming: Promise<void> | undefined
    bus.on((e) => {
      if (e.type === 'run.status' && e.status === 'cancelled' && !resuming) resuming = runs.resume(id)
    })
    await runs.cancel(id)
    await resuming
    await until(() => store.statusOf(id) === 'done' || store.statusOf(id) === 'failed')
    await runs.idle()
    expect(store.statusOf(id)).toBe('done')
  })

  it('marks runs interrupted at shutdown and on the next start, and they resume', async () => {
    const store = new MemoryRuns({ epochs: 3, dim: 4, stepDelayMs: 20 })
    const bus = new EventBus()
    const runs = new RunManager(store, bus)
    const a = await runs.start(runInput())
    const b = await runs.start(runInput())
    await until(() => store.runs.get(a)!.checkpoints.length >= 1)
    await runs.shutdown()
    expect(store.statusOf(a)).toBe('interrupted')
    expect(store.statusOf(b)).toBe('interrupted')
    // A process killed outright leaves 'running' behind; the next RunManager repairs it.
    store.setStatus(a, 'running')
    const next = new RunManager(store, new EventBus())
    expect(store.statusOf(a)).toBe('interrupted')
    await next.resume(a)
    await until(() => store.statusOf(a) === 'done' || store.statusOf(a) === 'failed')
    await next.idle()
    expect(store.statusOf(a)).toBe('done')
  })
})
