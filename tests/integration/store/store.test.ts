// The store on a real SQLite file: migrations and pragmas, dataset round trip, delete cascade,
// tamper detection, runs / metrics / evaluations, checksummed checkpoints, recommendations, prompts.
import { BUSY_TIMEOUT_MS } from '../../../main/store/busy'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import path from 'node:path'
import Database from 'better-sqlite3'
import { openStore, resolveDbPath, appDataDir, SCHEMA_VERSION, type Store } from '../../../main/store/db'
import { importDataset } from '../../../main/store/import-dataset'
import {
  deleteDataset,
  getDataset,
  listDatasets,
  loadDataset,
  datasetRowCounts,
  searchItems,
  searchUsers,
} from '../../../main/store/datasets-repo'
import {
  addEvaluations,
  addMetrics,
  createRun,
  getMetricSeries,
  getRun,
  listEvaluations,
  listRuns,
  markInterruptedRuns,
  setRunStatus,
} from '../../../main/store/runs-repo'
import {
  latestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  saveCheckpoint,
} from '../../../main/store/checkpoints-repo'
import { getRecommendations, saveRecommendations } from '../../../main/store/recommendations-repo'
import {
  deletePromptTemplates,
  getPromptTemplates,
  listPromptTemplates,
  savePromptTemplates,
} from '../../../main/store/prompt-templates-repo'
import { buildDataset } from '../../../main/data/import-source'
import { tempDir } from '../../unit/data/helpers'

const t = tempDir('cllm4rec-store-')
let store: Store
let csv: string

beforeAll(() => {
  store = openStore(path.join(t.dir, 'sub', 'wb.db'))
  csv = t.file(
    'tiny.csv',
    'user,item,rating,timestamp,text\n' +
      Array.from(
        { length: 60 },
        (_, k) => `u${k % 6},i${(k * 7) % 11},${(k % 5) + 1},${1000 + k},"review ${k}, with comma"`,
      ).join('\n') +
      '\n',
  )
})
afterAll(() => {
  store.close()
  t.cleanup()
})

describe('openStore', () => {
  it('creates the folder, applies migrations once, and sets WAL / foreign keys / busy timeout', () => {
    const versions = store.db.prepare('SELECT version FROM schema_version ORDER BY version').pluck().all()
    expect(versions).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1))
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1)
    expect(store.db.pragma('busy_timeout', { simple: true })).toBe(BUSY_TIMEOUT_MS) // per attempt; retryBusy waits longer
    const again = openStore(store.file)
    expect(again.db.prepare('SELECT COUNT(*) FROM schema_version').pluck().get()).toBe(SCHEMA_VERSION)
    again.close()
  })
  it('refuses a database from a newer app version', () => {
    const f = path.join(t.dir, 'newer.db')
    const raw = new Database(f)
    raw.exec(
      "CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL); INSERT INTO schema_version VALUES (99, 'x')",
    )
    raw.close()
    expect(() => openStore(f)).toThrow(
      /newer\.db: database schema version 99 is newer than this app supports/,
    )
  })
  it('resolves the database path: flag, then CLLM4REC_DB, then the app-data folder', () => {
    const saved = { db: process.env.CLLM4REC_DB, xdg: process.env.XDG_DATA_HOME }
    try {
      process.env.CLLM4REC_DB = '/tmp/env.db'
      expect(resolveDbPath('rel/flag.db')).toBe(path.resolve('rel/flag.db'))
      expect(resolveDbPath()).toBe('/tmp/env.db')
      delete process.env.CLLM4REC_DB
      process.env.XDG_DATA_HOME = '/tmp/xdg'
      if (process.platform === 'linux')
        expect(resolveDbPath()).toBe('/tmp/xdg/cllm4rec-workbench/workbench.db')
      expect(resolveDbPath()).toBe(path.join(appDataDir(), 'workbench.db'))
    } finally {
      if (saved.db === undefined) delete process.env.CLLM4REC_DB
      else process.env.CLLM4REC_DB = saved.db
      if (saved.xdg === undefined) delete process.env.XDG_DATA_HOME
      else process.env.XDG_DATA_HOME = saved.xdg
    }
  })
})

describe('datasets', () => {
  it('round-trips a dataset exactly (ids, split, reviews, ratings, timestamps)', async () => {
    const built = await buildDataset(csv, { name: 'tiny', seed: 5 })
    const r = await importDataset(store, { path: csv, name: 'tiny', seed: 5 })
    expect(r.hash).toBe(built.dataset.hash)
    expect(loadDataset(store, 'tiny')).toEqual(built.dataset)
    expect(loadDataset(store, r.datasetId)).toEqual(built.dataset)
    const row = store.db
      .prepare(
        'SELECT rating, ts FROM interactions WHERE dataset_id = ? AND user_idx = 0 ORDER BY item_idx LIMIT 1',
      )
      .get(r.datasetId) as { rating: number; ts: number }
    expect(row.rating).toBeGreaterThanOrEqual(1)
    expect(row.ts).toBeGreaterThanOrEqual(1000)
    const g = getDataset(store, 'tiny')
    expect(g).toMatchObject({
      name: 'tiny',
      format: 'csv',
      users: 6,
      interactions: r.stats.interactions.total,
    })
    expect(g.stats.hash).toBe(r.hash)
    expect(g.options).toMatchObject({ seed: 5 })
    expect(listDatasets(store).map((d) => d.name)).toContain('tiny')
  })

  it('finds users and items for the pickers', () => {
    const id = getDataset(store, 'tiny').id
    const users = searchUsers(store, id, 'u1')
    expect(users).toHaveLength(1)
    expect(users[0].nTrain).toBeGreaterThan(0)
    expect(
      searchItems(store, id, 'i1')
        .map((i) => i.id)
        .sort(),
    ).toEqual(['i1', 'i10'])
  })

  it('detects tampering through the data hash', async () => {
    const f = t.file('tamper.csv', 'user,item\na,x\na,y\na,z\nb,x\nb,y\nb,z\n')
    const r = await importDataset(store, { path: f, name: 'tamper' })
    store.db
      .prepare('UPDATE interactions SET split = (split + 1) % 3 WHERE dataset_id = ? AND user_idx = 0')
      .run(r.datasetId)
    expect(() => loadDataset(store, 'tamper')).toThrow(/stored interactions do not match the data hash/)
  })

  it('deletes with cascade, and refuses while runs exist unless forced', async () => {
    const f = t.file('del.csv', 'user,item\na,x\nb,y\n')
    const r = await importDataset(store, { path: f, name: 'del' })
    createRun(store, {
      name: 'r',
      datasetId: r.datasetId,
      config: {},
      seed: 1,
      dataHash: r.hash,
      backend: 'cpu',
      appVersion: 't',
    })
    expect(() => deleteDataset(store, 'del')).toThrow(/has 1 run\(s\)/)
    deleteDataset(store, 'del', { force: true })
    expect(datasetRowCounts(store, r.datasetId)).toEqual({ users: 0, items: 0, interactions: 0, texts: 0 })
    expect(listRuns(store, r.datasetId)).toEqual([])
    expect(() => getDataset(store, 'del')).toThrow(/no dataset named 'del'/)
  })
})

describe('runs, metrics, evaluations', () => {
  it('stores what reproduces a run and tracks status', () => {
    const ds = getDataset(store, 'tiny')
    expect(() =>
      createRun(store, {
        name: 'x',
        datasetId: ds.id,
        config: {},
        seed: 1,
        dataHash: 'deadbeef',
        backend: 'cpu',
        appVersion: '0',
      }),
    ).toThrow(/does not match dataset/)
    const id = createRun(store, {
      name: 'run1',
      datasetId: ds.id,
      config: { lr: 0.001 },
      seed: 42,
      dataHash: ds.dataHash,
      backend: 'wasm',
      appVersion: '0.1.0',
    })
    expect(getRun(store, id)).toMatchObject({
      status: 'queued',
      config: { lr: 0.001 },
      seed: 42,
      backend: 'wasm',
      startedAt: null,
    })
    setRunStatus(store, id, 'running')
    expect(getRun(store, id).startedAt).not.toBeNull()
    addMetrics(store, id, [
      { stage: 'collaborative', step: 1, epoch: 0, name: 'loss', value: 3.5 },
      { stage: 'collaborative', step: 2, epoch: 0, name: 'loss', value: 3.1 },
      { stage: 'collaborative', step: 2, epoch: 0, name: 'lr', value: 0.001 },
    ])
    expect(getMetricSeries(store, id, 'loss').map((p) => p.value)).toEqual([3.5, 3.1])
    expect(() =>
      addMetrics(store, id, [{ stage: 's', step: 3, epoch: 0, name: 'loss', value: NaN }]),
    ).toThrow(/not finite/)
    expect(getMetricSeries(store, id)).toHaveLength(3)
    addEvaluations(store, [
      { runId: id, datasetId: ds.id, split: 'test', protocol: 'paper', metric: 'recall@20', value: 0.1 },
      {
        baseline: 'popularity',
        datasetId: ds.id,
        split: 'test',
        protocol: 'paper',
        metric: 'recall@20',
        value: 0.05,
      },
    ])
    expect(() =>
      addEvaluations(store, [{ datasetId: ds.id, split: 'test', protocol: 'p', metric: 'm', value: 1 }]),
    ).toThrow(/exactly one/)
    expect(listEvaluations(store, { runId: id }).map((e) => e.value)).toEqual([0.1])
    expect(listEvaluations(store, { baseline: 'popularity' })[0]).toMatchObject({
      baseline: 'popularity',
      value: 0.05,
    })
    expect(markInterruptedRuns(store)).toBe(1)
    expect(getRun(store, id)).toMatchObject({ status: 'interrupted' })
    setRunStatus(store, id, 'failed', 'out of memory')
    expect(getRun(store, id)).toMatchObject({ status: 'failed', error: 'out of memory' })
  })
})

describe('checkpoints', () => {
  const run = () => {
    const ds = getDataset(store, 'tiny')
    return createRun(store, {
      name: 'ck',
      datasetId: ds.id,
      config: { a: 1 },
      seed: 1,
      dataHash: ds.dataHash,
      backend: 'cpu',
      appVersion: '0',
    })
  }
  it('round-trips tensors and verifies the checksum on read', () => {
    const runId = run()
    const w = new Float32Array([1.5, -2, 3.25, 4, 5, 6])
    const id = saveCheckpoint(store, {
      runId,
      stage: 'collaborative',
      step: 10,
      config: { a: 1 },
      tensors: [
        { name: 'wte', dtype: 'float32', shape: [2, 3], data: w },
        { name: 'ids', dtype: 'int32', shape: [2], data: new Int32Array([7, -1]) },
      ],
    })
    const c = loadCheckpoint(store, id)
    expect(c).toMatchObject({ runId, stage: 'collaborative', step: 10, formatVersion: 1, config: { a: 1 } })
    expect(Array.from(c.tensors[0].data)).toEqual(Array.from(w))
    expect(Array.from(c.tensors[1].data)).toEqual([7, -1])
    expect(latestCheckpoint(store, runId)?.id).toBe(id)
    expect(listCheckpoints(store, runId)).toHaveLength(1)
    // Flip one byte of the stored blob: the read must fail, not return wrong weights.
    const blob = store.db
      .prepare('SELECT data FROM checkpoint_tensors WHERE checkpoint_id = ? AND name = ?')
      .pluck()
      .get(id, 'wte') as Buffer
    blob[0] ^= 1
    store.db
      .prepare('UPDATE checkpoint_tensors SET data = ? WHERE checkpoint_id = ? AND name = ?')
      .run(blob, id, 'wte')
    expect(() => loadCheckpoint(store, id)).toThrow(/failed its checksum/)
  })
  it('keeps only the newest checkpoints of a run when asked, leaving other runs alone', () => {
    const [a, b] = [run(), run()]
    const save = (runId: number, step: number, keep?: number) =>
      saveCheckpoint(
        store,
        {
          runId,
          stage: 's',
          step,
          config: {},
          tensors: [{ name: 'w', dtype: 'float32', shape: [1], data: new Float32Array([step]) }],
        },
        { keep },
      )
    save(b, 1)
    save(b, 2)
    for (let step = 1; step <= 5; step++) save(a, step, 2)
    expect(listCheckpoints(store, a).map((c) => c.step)).toEqual([4, 5])
    expect(listCheckpoints(store, b)).toHaveLength(2)
    const orphans = store.db
      .prepare(
        'SELECT COUNT(*) FROM checkpoint_tensors WHERE checkpoint_id NOT IN (SELECT id FROM checkpoints)',
      )
      .pluck()
      .get()
    expect(orphans).toBe(0)
    expect(() => save(a, 6, 0)).toThrow(/keep must be an integer >= 1/)
  })
  it('rejects inconsistent tensors and writes nothing when the transaction fails', () => {
    const runId = run()
    expect(() =>
      saveCheckpoint(store, {
        runId,
        stage: 's',
        step: 1,
        config: {},
        tensors: [{ name: 'w', dtype: 'float32', shape: [3], data: new Float32Array(2) }],
      }),
    ).toThrow(/do not fit shape/)
    const before = store.db.prepare('SELECT COUNT(*) FROM checkpoint_tensors').pluck().get()
    expect(() =>
      saveCheckpoint(store, {
        runId: 999_999,
        stage: 's',
        step: 1,
        config: {},
        tensors: [{ name: 'w', dtype: 'float32', shape: [1], data: new Float32Array(1) }],
      }),
    ).toThrow(/FOREIGN KEY/)
    expect(store.db.prepare('SELECT COUNT(*) FROM checkpoint_tensors').pluck().get()).toBe(before)
  })
})

describe('recommendations and prompt templates', () => {
  it('replaces a user list atomically and reads top-k', () => {
    const ds = getDataset(store, 'tiny')
    const runId = createRun(store, {
      name: 'rec',
      datasetId: ds.id,
      config: {},
      seed: 1,
      dataHash: ds.dataHash,
      backend: 'cpu',
      appVersion: '0',
    })
    saveRecommendations(
      store,
      runId,
      new Map([
        [
          0,
          [
            { item: 3, score: 0.9 },
            { item: 1, score: 0.5 },
            { item: 2, score: 0.1 },
          ],
        ],
      ]),
    )
    expect(getRecommendations(store, runId, 0, 2)).toEqual([
      { user: 0, rank: 1, item: 3, score: 0.9 },
      { user: 0, rank: 2, item: 1, score: 0.5 },
    ])
    saveRecommendations(store, runId, new Map([[0, [{ item: 4, score: 1 }]]]))
    expect(getRecommendations(store, runId, 0)).toEqual([{ user: 0, rank: 1, item: 4, score: 1 }])
    expect(() => saveRecommendations(store, 999_999, new Map())).toThrow(/no run with id/)
  })
  it('upserts, lists and deletes templates', () => {
    savePromptTemplates(store, 'mine', { collaborative: 'A <user> B', review: 'R' })
    savePromptTemplates(store, 'mine', { review: 'R2' })
    expect(getPromptTemplates(store, 'mine')).toEqual({ collaborative: 'A <user> B', review: 'R2' })
    expect(listPromptTemplates(store).filter((r) => r.name === 'mine')).toHaveLength(2)
    expect(deletePromptTemplates(store, 'mine')).toBe(2)
    expect(getPromptTemplates(store, 'mine')).toEqual({})
  })
})
