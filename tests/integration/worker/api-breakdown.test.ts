// The Results breakdown on the real stack: API -> a one-off engine worker -> a tiny CLLM4Rec run trained
// through the run queue and stored in SQLite. The 'all' row must be the run's stored Recall@20 (test,
// and validation for the selected epoch), the groups must add up to the split, bad calls must say why,
// and a cancel mid-Mult-VAE ends the call with every window told.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BreakdownGroup, RunBreakdown, RunInput, RunSummary } from '../../../preload/api'
import type { ApiApp } from '../../../main/api/app'
import { callApi } from '../../../main/api/handlers'
import { loadDatasetFromDb } from '../../../main/api/services'
import { openTestApp, TINY_BACKBONE, until, type TestApp } from './test-app'

// The smallest schedule that still validates (so the selected epoch is the best validation one).
const TINY = {
  warmupEpochs: 1,
  rounds: 1,
  finetuneEpochs: 2,
  evalEvery: 1,
  ...TINY_BACKBONE,
}

let env: TestApp
let app: ApiApp
let input: RunInput
let run: RunSummary

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)

beforeAll(async () => {
  env = openTestApp('wb-breakdown-')
  app = env.app
  const datasetId = (await app.handlers.createDemoDataset({ seed: 4, users: 60, items: 40 })).id
  const preset = (await app.handlers.listPromptPresets())[0]
  input = {
    datasetId,
    preset: 'fast',
    overrides: TINY,
    templates: preset.templates,
    backboneId: 'scratch',
    seed: 3,
  }
  const { runId } = await app.handlers.startRun(input)
  await env.runs().idle()
  run = (await app.handlers.listRuns()).find((r) => r.id === runId)!
  expect(run.status).toBe('done')
}, 180_000)

afterAll(() => env?.close())

/** Every model's user-weighted mean over the history groups is its 'all' figure. */
function expectHistoryAddsUp(b: RunBreakdown): void {
  const [all, ...groups] = b.history
  expect(all.group).toBe('all')
  expect(sum(groups.map((g) => g.count))).toBe(all.count)
  for (const { name } of b.models) {
    const weighted = sum(groups.map((g: BreakdownGroup) => (g.count ? g.values[name]! * g.count : 0)))
    expect(weighted / all.count, name).toBeCloseTo(all.values[name]!, 10)
    for (const g of groups) expect(g.values[name] === null, `${name} ${g.group}`).toBe(g.count === 0)
  }
}

describe('run breakdown through the API', () => {
  it('splits a finished run and the baselines; the all row is the stored Recall@20', async () => {
    const data = await loadDatasetFromDb(app.services.dbPath, input.datasetId)
    const b = await app.handlers.runBreakdown(run.id, 'test')
    expect(b).toMatchObject({
      runId: run.id,
      datasetName: run.datasetName,
      split: 'test',
      protocol: expect.stringMatching(/^.+; full ranking over 40 items, .+; test split$/),
      validationSelected: true,
    })
    expect(b.models).toEqual([
      { name: 'CLLM4Rec', setting: 'best validation epoch' },
      { name: 'Popularity', setting: '' },
      { name: 'EASE', setting: expect.stringMatching(/^λ=\d+, chosen on validation$/) },
    ])
    expect(b.history[0].values.CLLM4Rec).toBeCloseTo(run.test!.recall20, 6)
    expectHistoryAddsUp(b)
    // Every user with a held-out item, and every held-out item, lands in exactly one group.
    expect(b.history[0].count).toBe(data.test.filter((t) => t.length > 0).length)
    expect(sum(b.popularity.map((g) => g.count))).toBe(sum(data.test.map((t) => t.length)))
    // Every window hears how it went: loading, EASE per λ, scoring per batch, then done with the result.
    const mine = env.events.filter(
      (e) => 'runId' in e && e.runId === run.id && e.type.startsWith('breakdown.'),
    )
    const stages = mine.flatMap((e) => (e.type === 'breakdown.progress' ? [e.stage] : []))
    expect([...new Set(stages)]).toEqual(['Loading the run', 'EASE', 'Scoring'])
    expect(mine.at(-1)).toEqual({ type: 'breakdown.status', runId: run.id, status: 'done', breakdown: b })

    // On validation the selected epoch's tables give the run's best validation Recall@20.
    const val = await app.handlers.runBreakdown(run.id, 'val')
    expect(val.protocol).toMatch(/; val split$/)
    expect(val.history[0].values.CLLM4Rec).toBeCloseTo(run.val!.recall20, 6)
    expectHistoryAddsUp(val)
  }, 120_000)

  it('says why it refuses: unknown or unfinished run, bad split or options', async () => {
    await expect(app.handlers.runBreakdown(9999, 'test')).rejects.toThrow(/no run with id 9999/)
    const queued = app.runData.createRun(input)
    await expect(app.handlers.runBreakdown(queued, 'test')).rejects.toThrow(
      new RegExp(`run ${queued} is 'queued': only a finished run has a breakdown`),
    )
    const msg = (args: unknown[]) =>
      callApi(app.handlers, 'runBreakdown', args).then(
        () => 'accepted',
        (e: Error) => e.message,
      )
    expect(await msg([run.id, 'train'])).toBe("argument 'split' must be one of 'test', 'val'")
    expect(await msg([run.id, 'test', { multVae: 'yes' }])).toBe(
      "argument 'options.multVae' must be a boolean",
    )
    expect(await msg([run.id, 'test', { multVaeEpochs: 5 }])).toBe(
      "argument 'options.multVaeEpochs' must be given only with multVae: true",
    )
    expect(await msg([run.id, 'test', { multVae: true, multVaeEpochs: 0 }])).toMatch(
      /^argument 'options.multVaeEpochs' must be an integer/,
    )
    expect(await msg([run.id, 'test', { vaeEpochs: 2 }])).toBe(
      "argument 'options' has unknown field 'vaeEpochs'",
    )
    await expect(app.handlers.cancelBreakdown(run.id)).rejects.toThrow(/no breakdown of run \d+ is running/)
  })

  it('fits Mult-VAE for the epochs asked and ranks it on the same groups', async () => {
    const b = await app.handlers.runBreakdown(run.id, 'test', { multVae: true, multVaeEpochs: 3 })
    expect(b.models.at(-1)).toEqual({
      name: 'Mult-VAE',
      setting: expect.stringMatching(/^3 epochs, best at [123] on validation$/),
    })
    expectHistoryAddsUp(b)
    expect(b.history[0].values.CLLM4Rec).toBeCloseTo(run.test!.recall20, 6)
  }, 120_000)

  it('cancels mid-Mult-VAE; a second call on the same run meanwhile is refused', async () => {
    const from = env.events.length
    const call = app.handlers.runBreakdown(run.id, 'test', { multVae: true }).then(
      () => 'finished',
      (err: Error) => err.message,
    )
    const mine = () => env.events.slice(from).filter((e) => 'runId' in e && e.runId === run.id)
    await until(() => mine().some((e) => e.type === 'breakdown.progress' && e.stage === 'Mult-VAE'))
    await expect(app.handlers.runBreakdown(run.id, 'val')).rejects.toThrow(/already running/)
    await app.handlers.cancelBreakdown(run.id)
    expect(await call).toBe(`breakdown of run ${run.id} cancelled`)
    const vae = mine().flatMap((e) => (e.type === 'breakdown.progress' && e.stage === 'Mult-VAE' ? [e] : []))
    expect(vae[0].message).toMatch(/^Mult-VAE: 1\/200 epochs$/)
    expect(vae.every((e) => e.etaSec !== null && e.etaSec >= 0)).toBe(true)
    expect(mine().at(-1)).toMatchObject({ type: 'breakdown.status', status: 'cancelled' })
  }, 60_000)
})
