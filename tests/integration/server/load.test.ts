// Load on one database (bounded, loopback only, stops by itself): an import in its worker, a training
// run writing metrics and checkpoints, and API clients calling throughout. Every one must complete;
// none may fail for a lock. Prints p50 / p99 / max API latency.
// Scale with LOAD_ROWS (default 200k; the figure is 12M, for a big machine). LOAD_HOLD_MS > 0
// adds a second connection holding the write lock that long (main's own writes then wait that long).
import { createWriteStream } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppEvent, FileRef, RunDetail } from '../../../preload/api'
import { createApiApp, type ApiApp } from '../../../main/api/app'
import { NO_DIALOGS } from '../../../main/api/context'
import { startServer, type RunningServer } from '../../../main/server/server'
import { createRunManager } from '../../../main/worker/run-manager'
import { tempDir } from '../../unit/data/helpers'
import { apiCall } from './api-call'

const ROWS = Number(process.env.LOAD_ROWS ?? 200_000)
const HOLD_MS = Number(process.env.LOAD_HOLD_MS ?? 0)
const CLIENTS = 6
const here = path.dirname(fileURLToPath(import.meta.url))
const t = tempDir('wb-load-')
let app: ApiApp
let srv: RunningServer
const events: AppEvent[] = []

const call = <T>(method: string, ...args: unknown[]): Promise<T> => apiCall<T>(srv, method, ...args)

async function writeTsv(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file)
  out.write('user\titem\trating\n')
  for (let k = 0; k < rows; k += 10_000) {
    let chunk = ''
    // 20 distinct items per user (7919 is coprime to 50,000): every row is a new pair, so all of them
    // reach the write phase (no dedup shrinks the import).
    for (let j = k; j < Math.min(rows, k + 10_000); j++) {
      const u = j % (rows / 20)
      chunk += `u${u}\ti${(Math.floor(j / (rows / 20)) * 7919 + u) % 50_000}\t${1 + (j % 5)}\n`
    }
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()))
  }
  await new Promise<void>((r) => out.end(() => r()))
}

/** A second connection holding the write lock (a real worker thread, the store's own write path). */
function holdLock(dbFile: string, holdMs: number): Promise<void> {
  const w = new Worker(path.resolve(here, '../../../main/worker/tsx-bootstrap.mjs'), {
    workerData: {
      entryUrl: pathToFileURL(path.resolve(here, '../store/lock-holder.ts')).href,
      dbFile,
      holdMs,
      what: 'the load test holding the write lock',
    },
  })
  return new Promise((resolve, reject) => {
    w.on('message', (m) => m === 'released' && resolve())
    w.on('error', reject)
  })
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]

beforeAll(async () => {
  await writeTsv(t.file('data/load.tsv', ''), ROWS)
  app = createApiApp({
    mode: 'browser',
    version: '0.0.0-test',
    dbPath: path.join(t.dir, 'wb.db'),
    dialogs: NO_DIALOGS,
    dataDirs: [path.join(t.dir, 'data')],
    trainer: 'bpr-mf',
    createRuns: (p, bus) => createRunManager(p, bus),
  })
  app.bus.on((e) => events.push(e))
  srv = await startServer({ handlers: app.handlers, bus: app.bus, files: app.files, distDir: t.dir })
})

afterAll(async () => {
  await srv?.close()
  await app?.close()
  t.cleanup()
})

describe('load on one database', () => {
  it(`an import of ${ROWS} rows, a training run and API calls at once`, async () => {
    const demo = await call<{ id: number }>('createDemoDataset', { seed: 7, users: 200, items: 100 })
    const file = (await call<FileRef[]>('listDataFiles')).find((f) => f.name === 'load.tsv')!
    const latencies: number[] = []
    const failures: string[] = []
    let done = false
    const client = async (): Promise<void> => {
      const methods = ['listDatasets', 'listRuns', 'results', 'getDataset'] as const
      for (let k = 0; !done; k++) {
        const m = methods[k % methods.length]
        const t0 = performance.now()
        try {
          await (m === 'getDataset' ? call(m, demo.id) : call(m))
        } catch (err) {
          failures.push((err as Error).message)
        }
        latencies.push(performance.now() - t0)
        await new Promise((r) => setTimeout(r, 20))
      }
    }
    const clients = Array.from({ length: CLIENTS }, client)
    const lock = HOLD_MS > 0 ? holdLock(app.services.dbPath, HOLD_MS) : Promise.resolve()
    const imported = call<{ datasetId: number }>('importDataset', {
      fileRef: file.fileRef,
      map: { user: 'user', item: 'item', rating: 'rating' },
      kcore: 0,
    })
    let importDone = false
    void imported.then(
      () => (importDone = true),
      () => (importDone = true),
    )
    // The run starts once the import writes (its metric and checkpoint writes then meet the import's).
    const w0 = Date.now()
    while (
      !importDone &&
      Date.now() - w0 < 120_000 &&
      !events.some((e) => e.type === 'import.progress' && e.message.startsWith('write'))
    )
      await new Promise((r) => setTimeout(r, 10))
    const startedDuringWrite = !importDone
    const { runId } = await call<{ runId: number }>('startRun', {
      datasetId: demo.id,
      preset: 'paper',
      overrides: { epochs: 8, dim: 8, stepDelayMs: 5 },
      templates: {
        collaborative: '{user} has interacted with',
        review: '{user} writes the following review for {item}:',
        itemText: '{item} is described as:',
        userText: '{user} is described as:',
        recommendation: '{user} has interacted with {items}, the user will interact with',
      },
      backboneId: 'scratch',
      seed: 3,
    })
    const t0 = Date.now()
    let run: RunDetail
    for (;;) {
      run = await call<RunDetail>('getRun', runId)
      if (!['queued', 'running'].includes(run.status) || Date.now() - t0 > 300_000) break
      await new Promise((r) => setTimeout(r, 100))
    }
    const ds = await imported
    const stored = await call<{ interactions: number }>('getDataset', ds.datasetId)
    await lock
    done = true
    await Promise.all(clients)
    const report = {
      rows: ROWS,
      holdMs: HOLD_MS,
      apiCalls: latencies.length,
      apiFailures: failures.length,
      p50Ms: Math.round(pct(latencies, 0.5)),
      p99Ms: Math.round(pct(latencies, 0.99)),
      maxMs: Math.round(Math.max(...latencies)),
      importedInteractions: stored.interactions,
      runStatus: run.status,
      runStartedDuringImportWrite: startedDuringWrite,
      metricsDuringLoad: events.filter((e) => e.type === 'run.metric' && e.runId === runId).length,
    }
    console.log(`load: ${JSON.stringify(report)}`)
    expect(failures).toEqual([])
    expect(run.error).toBeUndefined()
    expect(run.status).toBe('done')
    expect(ds.datasetId).toBeGreaterThan(demo.id)
    // Every row is a distinct pair: all of them are stored.
    expect(stored.interactions).toBe(ROWS)
    expect(latencies.length).toBeGreaterThan(CLIENTS)
  })
})
