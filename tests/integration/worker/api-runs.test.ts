// Runs end to end through the real stack: HTTP server -> handler table -> run queue -> worker thread,
// with real SQLite (runs, metric series, checkpoints written by the worker's own connection) and the
// fast BPR self-check trainer. Also the responsiveness check: API round trips and main's event-loop
// delay while a run trains (a functional bound, not a benchmark).
import path from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunDetail, RunInput } from '../../../preload/api'
import { createApiApp, type ApiApp } from '../../../main/api/app'
import { NO_DIALOGS } from '../../../main/api/context'
import * as store from '../../../main/store'
import { startServer, type RunningServer } from '../../../main/server/server'
import { RunManager, createRunManager } from '../../../main/worker/run-manager'
import { apiCall } from '../server/api-call'
import { openTestApp, until, type TestApp } from './test-app'

let env: TestApp
let app: ApiApp
let srv: RunningServer

const call = <T>(method: string, ...args: unknown[]): Promise<T> => apiCall<T>(srv, method, ...args)

const WAIT_MS = 90_000

const T = {
  collaborative: '{user} has interacted with',
  review: '{user} writes the following review for {item}:',
  itemText: '{item} is described as:',
  userText: '{user} is described as:',
  recommendation: '{user} has interacted with {items}, the user will interact with',
}
const input = (datasetId: number, overrides: Record<string, unknown>): RunInput => ({
  datasetId,
  preset: 'paper',
  overrides,
  templates: T,
  backboneId: 'scratch',
  seed: 11,
})

beforeAll(async () => {
  env = openTestApp('wb-runs-', { trainer: 'bpr-mf' })
  app = env.app
  srv = await startServer({ handlers: app.handlers, bus: app.bus, files: app.files, distDir: env.tmp })
})

afterAll(async () => {
  await srv?.close()
  await env?.close()
})

describe('runs through the API with SQLite', () => {
  it('trains, stores metrics + checkpoints, and survives cancel + resume', async () => {
    const ds = await call<{ id: number }>('createDemoDataset', { seed: 2, users: 120, items: 80 })
    const { runId } = await call<{ runId: number }>(
      'startRun',
      input(ds.id, { epochs: 6, dim: 8, stepDelayMs: 15 }),
    )
    expect(runId).toBeGreaterThan(0)
    await until(async () => store.listCheckpoints(app.services.db, runId).length >= 2, WAIT_MS)
    await call('cancelRun', runId)
    expect((await call<RunDetail>('getRun', runId)).status).toBe('cancelled')
    const kept = store.listCheckpoints(app.services.db, runId)
    // Written by the worker's own connection, checksummed, readable here.
    const latest = store.loadCheckpoint(app.services.db, kept.at(-1)!.id)
    expect(latest.tensors.map((t) => t.name)).toEqual(['user', 'item'])
    await call('resumeRun', runId)
    await until(
      async () => ['done', 'failed'].includes((await call<RunDetail>('getRun', runId)).status),
      WAIT_MS,
    )
    const detail = await call<RunDetail>('getRun', runId)
    expect(detail.error).toBeUndefined()
    expect(detail.status).toBe('done')
    expect(detail.test!.recall20).toBeGreaterThan(0)
    const epochs = store
      .listCheckpoints(app.services.db, runId)
      .map((c) => (c.config as { epoch: number }).epoch)
    // Only the newest two are kept; one loss per epoch shows the resume did not start over.
    expect(epochs).toEqual([5, 6])
    const losses = (await call<{ name: string }[]>('runMetrics', runId)).filter((m) => m.name === 'loss')
    expect(losses).toHaveLength(6)
    const rows = await call<{ kind: string; runId?: number }[]>('results')
    expect(rows.some((r) => r.kind === 'run' && r.runId === runId)).toBe(true)
    const statuses = env.events.flatMap((e) =>
      e.type === 'run.status' && e.runId === runId ? [e.status] : [],
    )
    expect(statuses).toEqual(['queued', 'running', 'cancelled', 'queued', 'running', 'done'])
  })

  it('validates run input before creating anything', async () => {
    await expect(call('startRun', { ...input(1, {}), seed: -1 })).rejects.toThrow(
      /400 argument 'input.seed' must be an integer in \[0, 2147483647\]/,
    )
    await expect(call('startRun', input(999, {}))).rejects.toThrow(/404 no dataset/)
    await expect(call('cancelRun', 12345)).rejects.toThrow(/404 no run with id 12345/)
  })

  it('keeps main responsive while a run trains', async () => {
    const ds = await call<{ id: number }>('createDemoDataset', { seed: 5 })
    await call('appInfo') // warm up (backend selection happens on the first call)
    const { runId } = await call<{ runId: number }>(
      'startRun',
      input(ds.id, { epochs: 400, dim: 128, checkpointEvery: 50 }),
    )
    await until(
      () =>
        env.runs().activeRun() === runId &&
        env.events.some((e) => e.type === 'run.progress' && e.runId === runId),
      WAIT_MS,
    )
    const loop = monitorEventLoopDelay({ resolution: 10 })
    loop.enable()
    const rtts: number[] = []
    while (env.runs().activeRun() === runId && rtts.length < 200) {
      const t0 = performance.now()
      await call('appInfo')
      await call('listRuns')
      rtts.push(performance.now() - t0)
      await new Promise((r) => setTimeout(r, 10))
    }
    loop.disable()
    const during = rtts.length
    await env.runs().idle()
    rtts.sort((a, b) => a - b)
    const p99 = rtts[Math.min(rtts.length - 1, Math.floor(rtts.length * 0.99))]
    const loopP99 = loop.percentile(99) / 1e6
    console.log(
      `[responsiveness] ${during} round trips (appInfo+listRuns) during training: median ${rtts[rtts.length >> 1].toFixed(1)} ms, ` +
        `p99 ${p99.toFixed(1)} ms; event-loop delay p99 ${loopP99.toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms`,
    )
    expect(during).toBeGreaterThanOrEqual(10)
    expect(p99).toBeLessThan(1000)
    expect(loopP99).toBeLessThan(500)
    expect((await call<RunDetail>('getRun', runId)).status).toBe('done')
  })

  it('a run interrupted by app exit is marked interrupted and resumes in the next app', async () => {
    const dbPath = path.join(env.tmp, 'restart.db')
    let firstRuns: RunManager | undefined
    const open = (onRuns?: (r: RunManager) => void): ApiApp =>
      createApiApp({
        mode: 'browser',
        version: '0.0.0-test',
        dbPath,
        dialogs: NO_DIALOGS,
        trainer: 'bpr-mf',
        createRuns: (p, bus) => {
          const r = createRunManager(p, bus)
          onRuns?.(r)
          return r
        },
      })
    const first = open((r) => (firstRuns = r))
    const ds = await first.handlers.createDemoDataset({ seed: 9, users: 80, items: 50 })
    const { runId } = await first.handlers.startRun(input(ds.id, { epochs: 5, dim: 8, stepDelayMs: 25 }))
    await until(() => store.listCheckpoints(first.services.db, runId).length >= 2, WAIT_MS)
    expect(firstRuns!.activeRun()).toBe(runId)
    await first.close()
    const second = open()
    try {
      expect((await second.handlers.getRun(runId)).status).toBe('interrupted')
      const kept = store.listCheckpoints(second.services.db, runId).length
      await second.handlers.resumeRun(runId)
      await until(
        async () => ['done', 'failed'].includes((await second.handlers.getRun(runId)).status),
        WAIT_MS,
      )
      const d = await second.handlers.getRun(runId)
      expect(d.error).toBeUndefined()
      expect(d.status).toBe('done')
      const epochs = store
        .listCheckpoints(second.services.db, runId)
        .map((c) => (c.config as { epoch: number }).epoch)
      expect(kept).toBeGreaterThanOrEqual(1)
      expect(epochs).toEqual([4, 5])
      // One loss per epoch: the resumed run continued from its checkpoint instead of starting over.
      const losses = (await second.handlers.runMetrics(runId)).filter((m) => m.name === 'loss')
      expect(losses.map((m) => m.epoch)).toEqual([0, 1, 2, 3, 4])
    } finally {
      await second.close()
    }
    // A process killed outright leaves 'running' in the database: the next start repairs it.
    const raw = store.openStore(dbPath)
    store.setRunStatus(raw, runId, 'running')
    raw.close()
    const third = open()
    try {
      expect((await third.handlers.getRun(runId)).status).toBe('interrupted')
    } finally {
      await third.close()
    }
  })
})
