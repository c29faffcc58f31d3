// Schema v2 on a real SQLite file: deletes go to a trash and can be undone (never half a dataset),
// the trash is purged by age, runs carry a sweep name, tags and notes, and a file can be imported
// again with other settings (but not twice with the same ones).
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStore, type Store } from '../../../main/store/db'
import { importDataset } from '../../../main/store/import-dataset'
import {
  datasetRowCounts,
  getDataset,
  listDatasets,
  purgeTrash,
  restoreDataset,
  trashDataset,
} from '../../../main/store/datasets-repo'
import {
  addMetrics,
  getMetricSeries,
  createRun,
  getRun,
  listRuns,
  restoreRun,
  trashRun,
  updateRunMeta,
} from '../../../main/store/runs-repo'
import { tempDir } from '../../unit/data/helpers'

const t = tempDir('cllm4rec-trash-')
let store: Store
let csv: string

beforeAll(() => {
  store = openStore(path.join(t.dir, 'wb.db'))
  const rows = ['user,item,rating']
  for (let u = 0; u < 30; u++)
    for (let k = 0; k < 6; k++) rows.push(`u${u},i${(u * 5 + k * 3) % 40},${1 + ((u + k) % 5)}`)
  csv = t.file('log.csv', rows.join('\n') + '\n')
})

afterAll(() => {
  store.close()
  t.cleanup()
})

describe('trash, sweep, tags and re-import', () => {
  let dsId = 0
  let runId = 0
  it('imports a file again with another threshold, but not with the same settings', async () => {
    const a = await importDataset(store, { path: csv, name: 'all' })
    dsId = a.datasetId
    await expect(importDataset(store, { path: csv, name: 'again' })).rejects.toThrow(
      /already imported as dataset 'all' \(id \d+\) with the same settings/,
    )
    const b = await importDataset(store, { path: csv, name: 'r4', minRating: 4 })
    expect(b.datasetId).not.toBe(dsId)
    expect(b.report.belowThreshold).toBeGreaterThan(0)
    expect(b.report.rawUsers).toBe(30)
    expect(b.report.rawItems).toBe(40)
    expect(getDataset(store, 'r4').interactions).toBe(180 - b.report.belowThreshold - b.report.kcoreRemoved)
  })

  it('stores the sweep name, tags, notes and a rename', () => {
    const ds = getDataset(store, dsId)
    runId = createRun(store, {
      name: 'lr-0.001',
      datasetId: dsId,
      config: { lr: 0.001 },
      seed: 1,
      dataHash: ds.dataHash,
      backend: 'cpu',
      appVersion: 't',
      sweep: 'lr-grid',
    })
    const plain = createRun(store, {
      name: 'plain',
      datasetId: dsId,
      config: {},
      seed: 2,
      dataHash: ds.dataHash,
      backend: 'cpu',
      appVersion: 't',
    })
    expect(getRun(store, runId).sweep).toBe('lr-grid')
    expect(getRun(store, plain)).toMatchObject({ sweep: null, tags: [], notes: '' })
    const r = updateRunMeta(store, runId, {
      name: ' lr small ',
      tags: ['best', 'best', ' paper '],
      notes: 'n',
    })
    expect(r).toMatchObject({ name: 'lr small', tags: ['best', 'paper'], notes: 'n', sweep: 'lr-grid' })
    expect(() => updateRunMeta(store, runId, { name: '  ' })).toThrow(/cannot be empty/)
  })

  it('keeps the wall-clock time of metric points, and none for untimed ones', () => {
    addMetrics(store, runId, [
      { stage: 'content', step: 1, epoch: 0, name: 'loss', value: 4, atMs: 1_700_000_000_123 },
      { stage: 'content', step: 2, epoch: 1, name: 'loss', value: 3 },
    ])
    expect(getMetricSeries(store, runId)).toEqual([
      { stage: 'content', step: 1, epoch: 0, name: 'loss', value: 4, atMs: 1_700_000_000_123 },
      { stage: 'content', step: 2, epoch: 1, name: 'loss', value: 3 },
    ])
  })

  it('a trashed run disappears from the list and comes back on restore', () => {
    trashRun(store, runId)
    expect(listRuns(store).map((r) => r.id)).not.toContain(runId)
    expect(listRuns(store, undefined, { trashed: true }).map((r) => r.id)).toContain(runId)
    restoreRun(store, runId)
    expect(listRuns(store).map((r) => r.id)).toContain(runId)
    expect(() => restoreRun(store, runId)).toThrow(/not|no run/)
  })

  it('a trashed dataset hides with its runs, keeps every row, and is restored whole', () => {
    const before = datasetRowCounts(store, dsId)
    trashDataset(store, dsId)
    expect(listDatasets(store).map((d) => d.id)).not.toContain(dsId)
    expect(listRuns(store).filter((r) => r.datasetId === dsId)).toEqual([])
    expect(datasetRowCounts(store, dsId)).toEqual(before)
    restoreDataset(store, dsId)
    expect(listDatasets(store).map((d) => d.id)).toContain(dsId)
    expect(listRuns(store).filter((r) => r.datasetId === dsId)).toHaveLength(2)
  })

  it('purges only what has been in the trash since before the cut-off, all of it', () => {
    trashDataset(store, dsId)
    expect(purgeTrash(store, '2000-01-01T00:00:00.000Z')).toEqual({ datasets: 0, runs: 0 })
    expect(purgeTrash(store, new Date(Date.now() + 1000).toISOString()).datasets).toBe(1)
    expect(() => getDataset(store, dsId)).toThrow(/no dataset/)
    expect(store.db.prepare('SELECT COUNT(*) FROM interactions WHERE dataset_id = ?').pluck().get(dsId)).toBe(
      0,
    )
    expect(store.db.prepare('SELECT COUNT(*) FROM runs WHERE dataset_id = ?').pluck().get(dsId)).toBe(0)
  })
})
