// A writer that finds the database locked by another connection waits and retries instead of failing
// after SQLite's busy timeout, and a writer that finally gives up names the database, what it was
// doing and what held the lock. The lock holder is a real worker thread with its own connection.
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { afterAll, describe, expect, it } from 'vitest'
import { openStore } from '../../../main/store/db'
import { addMetrics, createRun, getMetricSeries } from '../../../main/store/runs-repo'
import { importDataset } from '../../../main/store/import-dataset'
import { listDatasets, removeStaged } from '../../../main/store/datasets-repo'
import { dbSnapshot } from '../import/db-snapshot'
import { randomUUID } from 'node:crypto'
import { tempDir } from '../../unit/data/helpers'

const here = path.dirname(fileURLToPath(import.meta.url))
const t = tempDir('cllm4rec-busy-')
afterAll(() => t.cleanup())

/** Starts a worker that holds the write lock for holdMs; resolves once it holds it. */
async function holdLock(
  dbFile: string,
  holdMs: number,
  what = 'importing big.tsv',
): Promise<{ released: Promise<void> }> {
  const w = new Worker(path.resolve(here, '../../../main/worker/tsx-bootstrap.mjs'), {
    workerData: { entryUrl: pathToFileURL(path.join(here, 'lock-holder.ts')).href, dbFile, holdMs, what },
  })
  const released = new Promise<void>((resolve, reject) => {
    w.on('message', (m) => m === 'released' && resolve())
    w.on('error', reject)
  })
  await new Promise<void>((resolve, reject) => {
    w.on('message', (m) => m === 'locked' && resolve())
    w.on('error', reject)
  })
  return { released } // wrapped: an async function returning a promise would wait for it
}

describe('busy database', () => {
  it('a metric write waits out a 6 s write lock (longer than the old 5 s busy timeout)', async () => {
    const file = path.join(t.dir, 'metrics.db')
    const s = openStore(file)
    const ds = await importDataset(s, { path: t.file('a.tsv', 'user\titem\n1\t1\n1\t2\n2\t1\n'), name: 'a' })
    const runId = createRun(s, {
      name: 'r',
      datasetId: ds.datasetId,
      config: {},
      seed: 1,
      dataHash: ds.hash,
      backend: 'cpu',
      appVersion: 'test',
    })
    const { released } = await holdLock(file, 6000)
    const t0 = Date.now()
    addMetrics(s, runId, [{ stage: 'rec', step: 1, epoch: 1, name: 'loss', value: 0.5 }])
    expect(Date.now() - t0).toBeGreaterThan(5000)
    expect(getMetricSeries(s, runId).map((p) => p.value)).toEqual([0.5])
    await released
    s.close()
  })

  it('an import waits for another writer instead of failing', async () => {
    const file = path.join(t.dir, 'import.db')
    const s = openStore(file)
    const { released } = await holdLock(file, 6000)
    const r = await importDataset(s, { path: t.file('b.tsv', 'user\titem\n1\t1\n2\t2\n'), name: 'b' })
    expect(r.stats.users).toBe(2)
    await released
    s.close()
  })

  it('a large import holds the lock per chunk: a metric write waits one chunk, not the whole write', async () => {
    const file = path.join(t.dir, 'chunks.db')
    const s = openStore(file)
    const ds = await importDataset(s, { path: t.file('c.tsv', 'user\titem\n1\t1\n1\t2\n2\t1\n'), name: 'c' })
    const runId = createRun(s, {
      name: 'r',
      datasetId: ds.datasetId,
      config: {},
      seed: 1,
      dataHash: ds.hash,
      backend: 'cpu',
      appVersion: 'test',
    })
    const lines = ['user\titem']
    for (let k = 0; k < 400_000; k++) lines.push(`u${k % 20_000}\ti${Math.floor(k / 20_000)}`)
    const input = t.file('big.tsv', lines.join('\n') + '\n')
    const w = new Worker(path.resolve(here, '../../../main/worker/tsx-bootstrap.mjs'), {
      workerData: { entryUrl: pathToFileURL(path.join(here, 'import-child.ts')).href, dbFile: file, input },
    })
    const committed = new Promise<number>((resolve, reject) => {
      w.on('message', (m) => m?.committedAt && resolve(m.committedAt))
      w.on('error', reject)
    })
    await new Promise<void>((resolve) => w.on('message', (m) => m?.write && resolve()))
    addMetrics(s, runId, [{ stage: 'rec', step: 1, epoch: 1, name: 'loss', value: 1 }])
    const metricDone = Date.now()
    // The metric got in between chunks, before the import committed: a single transaction would have
    // made it wait for the whole write phase. (An order, not a timing bound: robust on a loaded machine.)
    expect(metricDone).toBeLessThan(await committed)
    // Until the commit the import was invisible; now it is complete.
    expect(listDatasets(s).map((d) => [d.name, d.interactions])).toEqual([
      ['c', 3],
      ['big', 400_000],
    ])
    s.close()
  })

  it('an import thread killed mid-write leaves hidden staged rows that removeStaged clears', async () => {
    const file = path.join(t.dir, 'killed.db')
    const s = openStore(file)
    await importDataset(s, { path: t.file('d.tsv', 'user\titem\n1\t1\n1\t2\n2\t1\n'), name: 'd' })
    const before = dbSnapshot(s)
    const lines = ['user\titem']
    for (let k = 0; k < 200_000; k++) lines.push(`u${k % 10_000}\ti${Math.floor(k / 10_000)}`)
    const input = t.file('killed.tsv', lines.join('\n') + '\n')
    const stagingId = randomUUID()
    const w = new Worker(path.resolve(here, '../../../main/worker/tsx-bootstrap.mjs'), {
      workerData: {
        entryUrl: pathToFileURL(path.join(here, 'import-child.ts')).href,
        dbFile: file,
        input,
        stagingId,
      },
    })
    await new Promise<void>((resolve) => w.on('message', (m) => m?.write && resolve()))
    await w.terminate()
    expect(listDatasets(s).map((d) => d.name)).toEqual(['d'])
    expect(dbSnapshot(s)).not.toBe(before) // staged rows are there, hidden
    expect(removeStaged(s, stagingId)).toBe(true)
    expect(dbSnapshot(s)).toBe(before)
    expect(removeStaged(s, stagingId)).toBe(false)
    s.close()
  })

  it('a writer that gives up names the database, what it was doing and what held the lock', async () => {
    const file = path.join(t.dir, 'giveup.db')
    openStore(file).close()
    const s = openStore(file, { busy: { maxWaitMs: 300, backoffMs: 10, maxBackoffMs: 50 } })
    const { released } = await holdLock(file, 3000, "importing dataset 'big' from big.tsv")
    expect(() => s.write('saving metrics of run 7', () => s.db.exec('DELETE FROM prompt_templates'))).toThrow(
      new RegExp(
        `^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: database busy: another connection kept the write lock ` +
          "for \\d+\\.\\d s while saving metrics of run 7 \\(\\d+ attempts\\); the lock was held by: importing dataset 'big' from big\\.tsv \\(since ",
      ),
    )
    await released
    s.close()
  })
})
