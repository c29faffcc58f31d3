// The tracker's API on the real stack (handler table -> services -> SQLite, BPR self-check trainer in a
// worker): a run's sweep, tags, notes and rename reach listRuns and results; bad patches are 400s that
// name the field; deleting a run or a dataset is undone by restore, with every row back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunInput } from '../../../preload/api'
import type { ApiApp } from '../../../main/api/app'
import { callApi } from '../../../main/api/handlers'
import * as store from '../../../main/store'
import { openTestApp, type TestApp } from './test-app'

let env: TestApp
let app: ApiApp
let datasetId = 0
let runId = 0

beforeAll(async () => {
  env = openTestApp('wb-tracker-', { trainer: 'bpr-mf' })
  app = env.app
  datasetId = (await app.handlers.createDemoDataset({ seed: 3, users: 60, items: 40 })).id
  const preset = (await app.handlers.listPromptPresets())[0]
  const input: RunInput = {
    datasetId,
    preset: 'paper',
    overrides: { epochs: 2, dim: 4 },
    templates: preset.templates,
    backboneId: 'scratch',
    seed: 5,
  }
  runId = (await app.handlers.startRun(input)).runId
  await env.runs().idle()
})

afterAll(() => env?.close())

describe('tracker API', () => {
  it('renames, tags and annotates a run; results carry seed, tags, sweep and best val', async () => {
    // The lead's sweep CLI sets the sweep on creation; here through the store, as it will.
    app.services.db.db.prepare("UPDATE runs SET sweep = 'dim-grid' WHERE id = ?").run(runId)
    const s = await app.handlers.updateRun(runId, { name: 'bpr small', tags: ['ref'], notes: 'first' })
    expect(s).toMatchObject({ name: 'bpr small', tags: ['ref'], notes: 'first', sweep: 'dim-grid', seed: 5 })
    const row = (await app.handlers.results()).find((r) => r.runId === runId)!
    expect(row).toMatchObject({ runName: 'bpr small', tags: ['ref'], sweep: 'dim-grid', seed: 5 })
    expect(row.val!.recall20).toBeGreaterThanOrEqual(0)
    // The BPR self-check logs no validation series: no 'last' to show beside the best.
    expect(row.lastVal).toBeUndefined()
    await expect(callApi(app.handlers, 'updateRun', [runId, { colour: 'red' }])).rejects.toThrow(
      /argument 'patch' has unknown field 'colour'/,
    )
    await expect(callApi(app.handlers, 'updateRun', [runId, { tags: [''] }])).rejects.toThrow(
      /argument 'patch.tags\[0\]' must be a non-empty string/,
    )
  })

  it('a deleted run comes back with its metrics and evaluations', async () => {
    const metrics = await app.handlers.runMetrics(runId)
    await app.handlers.deleteRun(runId)
    expect((await app.handlers.listRuns()).map((r) => r.id)).not.toContain(runId)
    expect((await app.handlers.results()).some((r) => r.runId === runId)).toBe(false)
    await app.handlers.restoreRun(runId)
    expect((await app.handlers.listRuns()).map((r) => r.id)).toContain(runId)
    expect(await app.handlers.runMetrics(runId)).toEqual(metrics)
    await expect(callApi(app.handlers, 'restoreRun', [runId])).rejects.toThrow(
      /no run with id \d+ in the trash/,
    )
  })

  it('a deleted dataset hides with its runs and is restored whole', async () => {
    const before = store.datasetRowCounts(app.services.db, datasetId)
    await app.handlers.deleteDataset(datasetId)
    expect(await app.handlers.listDatasets()).toEqual([])
    expect(await app.handlers.listRuns()).toEqual([])
    expect(store.datasetRowCounts(app.services.db, datasetId)).toEqual(before)
    await app.handlers.restoreDataset(datasetId)
    expect((await app.handlers.listDatasets()).map((d) => d.id)).toEqual([datasetId])
    expect((await app.handlers.listRuns()).map((r) => r.id)).toEqual([runId])
  })
})
