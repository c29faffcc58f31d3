// The product path with the real CLLM4Rec trainer: API -> run queue -> worker thread (tfjs) -> SQLite.
// A tiny schedule on the demo data runs once straight through while main's responsiveness is
// measured, then again with a cancel after a checkpoint and a resume; the resumed run must end with
// exactly the same test metrics (the checkpoint restores embeddings, Adam state and the PRNG).
import path from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunDetail, RunInput } from '../../../preload/api'
import type { ApiApp } from '../../../main/api/app'
import { callApi } from '../../../main/api/handlers'
import * as store from '../../../main/store'
import { loadDatasetFromDb } from '../../../main/api/services'
import { openTestApp, TINY_BACKBONE, until, type TestApp } from './test-app'

let env: TestApp
let app: ApiApp

const TINY = {
  warmupEpochs: 1,
  rounds: 2,
  finetuneEpochs: 2,
  ...TINY_BACKBONE,
}

const WAIT_MS = 110_000

let datasetId = 0
let input: RunInput

beforeAll(async () => {
  env = openTestApp('wb-cllm4rec-')
  app = env.app
  datasetId = (await app.handlers.createDemoDataset({ seed: 4, users: 60, items: 40 })).id
  const preset = (await app.handlers.listPromptPresets())[0]
  input = {
    datasetId,
    preset: 'paper',
    overrides: TINY,
    templates: preset.templates,
    backboneId: 'scratch',
    seed: 3,
  }
})

afterAll(() => env?.close())

describe('CLLM4Rec runs in the worker', () => {
  it('previews a document before any run, with the scratch tokenizer learned on the dataset', async () => {
    const presets = await app.handlers.listPromptPresets()
    expect(presets.filter((p) => p.builtin).map((p) => p.name)).toEqual(['paper', 'official'])
    const official = presets.find((p) => p.name === 'official')!
    expect(official.templates.recommendation.match(/\{user\}/g)).toHaveLength(2)
    await expect(app.handlers.savePromptPreset('official', official.templates)).rejects.toThrow(/built in/)
    const preset = presets[0]
    const data = await loadDatasetFromDb(app.services.dbPath, datasetId)
    const prev = await app.handlers.previewDocument({
      datasetId,
      backboneId: 'scratch',
      templates: preset.templates,
      kind: 'review',
      user: data.reviews[0].user,
      item: data.reviews[0].item,
    })
    expect(prev.errors).toEqual([])
    const roles = prev.tokens.map((t) => t.role)
    expect(roles[0]).toBe('soft')
    expect(roles).toContain('hard')
    expect(prev.mainTokens).toBeGreaterThan(0)
    // The main text's pieces spell the review back.
    const main = prev.tokens.filter((t) => t.role === 'main').map((t) => t.piece)
    expect(main.join('').trim()).toBe(data.reviews[0].text.trim())
    const checks = await app.handlers.checkTemplates(preset.templates, 'scratch', datasetId)
    expect(checks.every((c) => c.ok && c.errors.length === 0)).toBe(true)
    const review = checks.find((c) => c.kind === 'review')!
    expect(review.hardTokenCount).toBe(prev.promptTokens - 2) // the prompt less <user_i> and <item_j>
    // An edited phrase is learned too (as the next run's scratch BPE will): words, not characters.
    const edited = { ...preset.templates, collaborative: '{user} purchased these products:' }
    const ed = await app.handlers.previewDocument({
      datasetId,
      backboneId: 'scratch',
      templates: edited,
      kind: 'collaborative',
      user: 5,
      item: 0,
    })
    const hard = ed.tokens.filter((t) => t.role === 'hard').map((t) => t.piece)
    expect(hard.join('')).toBe(' purchased these products:')
    expect(hard.length).toBeLessThanOrEqual(4)
  })

  it("checks a scratch backbone's extra texts when the run is started, creating nothing", async () => {
    const before = (await app.handlers.listRuns()).length
    const start = (extraTexts: string) =>
      app.handlers.startRun({ ...input, overrides: { ...TINY, 'scratch.extraTexts': extraTexts } })
    await expect(start('texts.txt')).rejects.toThrow(
      /"scratch.extraTexts" must be an absolute path, got texts.txt/,
    )
    const missing = path.join(env.tmp, 'no-such-texts.txt')
    await expect(start(missing)).rejects.toThrow(`scratch.extraTexts: cannot read ${missing}: ENOENT`)
    expect(await app.handlers.listRuns()).toHaveLength(before)
  })

  it('trains to the end while main stays responsive', async () => {
    // The first appInfo starts a one-off backend probe in a worker: a start-up cost, not training's.
    await app.handlers.appInfo()
    const { runId } = await app.handlers.startRun(input)
    const loop = monitorEventLoopDelay({ resolution: 10 })
    loop.enable()
    const rtts: number[] = []
    while (env.runs().activeRun() === runId || store.getRun(app.services.db, runId).status === 'queued') {
      const t0 = performance.now()
      await app.handlers.appInfo()
      await app.handlers.listRuns()
      rtts.push(performance.now() - t0)
      await new Promise((r) => setTimeout(r, 20))
    }
    loop.disable()
    await env.runs().idle()
    const d = await app.handlers.getRun(runId)
    expect(d.error).toBeUndefined()
    expect(d.status).toBe('done')
    expect(d.backend).toMatch(/^(native|wasm|cpu|node|node-gpu|webgpu \(.+\))$/)
    expect(d.test!.ndcg100).toBeGreaterThan(0)
    rtts.sort((a, b) => a - b)
    const p99 = rtts[Math.min(rtts.length - 1, Math.floor(rtts.length * 0.99))]
    console.log(
      `[responsiveness cllm4rec] ${rtts.length} calls during training: p99 ${p99.toFixed(1)} ms; ` +
        `event-loop delay p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms`,
    )
    expect(rtts.length).toBeGreaterThan(10)
    expect(p99).toBeLessThan(1000)
    expect(loop.percentile(99) / 1e6).toBeLessThan(500)
    const stages = new Set(
      env.events.flatMap((e) => (e.type === 'run.progress' && e.runId === runId ? [e.stage] : [])),
    )
    for (const s of ['warmup', 'collaborative', 'content', 'finetune', 'eval'] as const)
      expect(stages.has(s), s).toBe(true)
    const metrics = await app.handlers.runMetrics(runId)
    expect(metrics.filter((m) => m.name === 'loss').length).toBeGreaterThanOrEqual(5)
    expect(metrics.some((m) => m.name === 'val.recall20')).toBe(true)
    // Results show the best validation (model selection) beside the last one logged.
    const row = (await app.handlers.results()).find((r) => r.runId === runId)!
    expect(row.lastVal!.recall20).toBe(metrics.filter((m) => m.name === 'val.recall20').at(-1)!.value)
    const sum = (m: { recall20: number; recall40: number; ndcg100: number }) =>
      m.recall20 + m.recall40 + m.ndcg100
    expect(sum(row.val!)).toBeGreaterThanOrEqual(sum(row.lastVal!))
  })

  it('cancel + resume ends with the same test metrics as the uninterrupted run', async () => {
    const reference = (await app.handlers.listRuns()).find((r) => r.status === 'done')!
    const { runId } = await app.handlers.startRun(input)
    await until(() => store.listCheckpoints(app.services.db, runId).length >= 2, WAIT_MS)
    await app.handlers.cancelRun(runId)
    expect((await app.handlers.getRun(runId)).status).toBe('cancelled')
    const steps = store.listCheckpoints(app.services.db, runId).map((c) => c.step)
    expect(steps.at(-1)).toBeLessThan(7)
    await app.handlers.resumeRun(runId)
    await until(
      () => store.getRun(app.services.db, runId).status !== 'queued' && env.runs().activeRun() !== runId,
      WAIT_MS,
    )
    await env.runs().idle()
    const d: RunDetail = await app.handlers.getRun(runId)
    expect(d.error).toBeUndefined()
    expect(d.status).toBe('done')
    expect(d.test).toEqual(reference.test)
    // The resumed run logged each epoch once, like the uninterrupted one: it did not start over.
    // Every stored series (losses, validation, test) sits at the same steps and epochs.
    const series = async (id: number) =>
      (await app.handlers.runMetrics(id)).map((m) => `${m.name}@${m.stage}:${m.step}:${m.epoch}`).sort()
    expect(await series(runId)).toEqual(await series(reference.id))
    // The progress bar never went back across the cancel and the resume.
    const fractions = env.events.flatMap((e) =>
      e.type === 'run.progress' && e.runId === runId ? [e.fraction] : [],
    )
    expect(fractions.length).toBeGreaterThan(2)
    for (let i = 1; i < fractions.length; i++) expect(fractions[i]).toBeGreaterThanOrEqual(fractions[i - 1])
    expect(store.listCheckpoints(app.services.db, runId)).toHaveLength(2)
  })

  it('inspects a finished run in the engine worker and runs the baselines', async () => {
    const done = (await app.handlers.listRuns()).find((r) => r.status === 'done')!
    const data = await loadDatasetFromDb(app.services.dbPath, datasetId)
    const u = await app.handlers.inspectUser(done.id, 5, 7)
    expect(u.user).toEqual({ user: 5, id: data.userIds[5], nTrain: data.train[5].length })
    expect(u.history.map((h) => h.item)).toEqual(data.train[5])
    expect(u.heldOut.map((h) => h.item)).toEqual(data.test[5])
    for (const list of [u.recCollaborative, u.recContent]) {
      expect(list).toHaveLength(7)
      for (const r of list) {
        expect(data.train[5]).not.toContain(r.item)
        expect(r.hit).toBe(data.test[5].includes(r.item))
      }
      // Ranked best first.
      expect(list.map((r) => r.score)).toEqual([...list.map((r) => r.score)].sort((a, b) => b - a))
    }
    const it3 = await app.handlers.inspectItem(done.id, 3, 4)
    expect(it3.neighborsCollaborative.map((n) => n.item)).not.toContain(3)
    expect(it3.neighborsContent).toHaveLength(4)
    // The item's own reviews, with the real user ids.
    const own = data.reviews.filter((r) => r.item === 3).slice(0, 20)
    expect(own.length).toBeGreaterThan(0)
    expect(it3.reviews).toEqual(
      own.map((r) => ({ user: r.user, userId: data.userIds[r.user], text: r.text })),
    )
    const proj = await app.handlers.projection(done.id, 25)
    expect(proj.points).toHaveLength(25)
    const [pc1, pc2] = proj.explainedVariance.collaborative
    expect(pc1).toBeGreaterThanOrEqual(pc2)
    expect(pc1 + pc2).toBeLessThanOrEqual(1 + 1e-9)
    const p3 = proj.points.find((p) => p.item === 3)
    if (p3) expect(p3.distance).toBeCloseTo(it3.distance, 5)
    const review = await app.handlers.generateReview(done.id, 5, 3, 8)
    expect(review.prompt).toContain('<user_5>')
    expect(review.prompt).toContain('<item_3>')
    // Sampling from a seed repeats itself; a near-zero temperature is the greedy text.
    const s = { temperature: 1.5, topK: 0, seed: 9 }
    const a = await app.handlers.generateReview(done.id, 5, 3, 8, s)
    expect(await app.handlers.generateReview(done.id, 5, 3, 8, s)).toEqual(a)
    const cold = await app.handlers.generateReview(done.id, 5, 3, 8, { temperature: 1e-4, topK: 5, seed: 1 })
    expect(cold.text).toBe(review.text)
    await expect(
      callApi(app.handlers, 'generateReview', [done.id, 5, 3, 8, { temperature: 0, topK: 1, seed: 1 }]),
    ).rejects.toThrow(/argument 'sampling.temperature' must be a number > 0/)
    await expect(app.handlers.inspectUser(done.id, 60, 5)).rejects.toThrow(/argument 'user' must be < 60/)
    const cancelledOrOther = (await app.handlers.listRuns()).find((r) => r.status !== 'done')
    if (cancelledOrOther)
      await expect(app.handlers.projection(cancelledOrOther.id, 5)).rejects.toThrow(/only finished runs/)
    // Token preview uses the run's scratch tokenizer: soft tokens for the user and the training items.
    const preset = (await app.handlers.listPromptPresets())[0]
    const prev = await app.handlers.previewDocument({
      datasetId,
      backboneId: 'scratch',
      templates: preset.templates,
      kind: 'collaborative',
      user: 5,
      item: 0,
    })
    expect(prev.errors).toEqual([])
    expect(prev.tokens[0]).toMatchObject({ piece: '<user_5>', role: 'soft' })
    expect(prev.mainTokens).toBe(data.train[5].length)
    // Baselines report a step per EASE λ and Mult-VAE epoch; a cancel mid-Mult-VAE stores nothing.
    const progress = () =>
      env.events.flatMap((e) => (e.type === 'baselines.progress' && e.datasetId === datasetId ? [e] : []))
    const cancelled = app.handlers.runBaselines(datasetId).then(
      () => 'finished',
      (err: Error) => err.message,
    )
    await until(() => progress().some((e) => e.stage === 'Mult-VAE'), WAIT_MS)
    await expect(app.handlers.runBaselines(datasetId)).rejects.toThrow(/already running/)
    await app.handlers.cancelBaselines(datasetId)
    expect(await cancelled).toMatch(/cancelled; nothing was stored/)
    const seen = progress()
    const ease = seen.filter((e) => e.stage === 'EASE')
    expect(ease.map((e) => e.message)).toEqual(ease.map((_, i) => `EASE: ${i + 1}/${ease.length} λ values`))
    expect(ease.every((e) => e.etaSec === null)).toBe(true)
    const vae = seen.filter((e) => e.stage === 'Mult-VAE')
    expect(vae.at(-1)!.fraction).toBeLessThan(1)
    expect(vae.every((e) => e.etaSec !== null && e.etaSec >= 0)).toBe(true)
    expect((await app.handlers.results()).filter((r) => r.kind === 'baseline')).toHaveLength(0)
    await expect(app.handlers.cancelBaselines(datasetId)).rejects.toThrow(/no baselines running/)
    const ends = () => env.events.flatMap((e) => (e.type === 'baselines.status' ? [e.status] : []))
    expect(ends()).toEqual(['cancelled'])

    const baselines = await app.handlers.runBaselines(datasetId)
    expect(baselines.map((b) => b.model)).toEqual([
      'Popularity',
      expect.stringMatching(/^EASE \(λ=\d+\)$/),
      'Mult-VAE (200 epochs)',
    ])
    expect(progress().at(-1)).toMatchObject({
      stage: 'Mult-VAE',
      fraction: 1,
      message: 'Mult-VAE: 200/200 epochs',
    })
    expect(ends()).toEqual(['cancelled', 'done'])
    const results = await app.handlers.results()
    expect(results.filter((r) => r.kind === 'baseline')).toHaveLength(3)
    expect(results.filter((r) => r.kind === 'run').length).toBeGreaterThanOrEqual(2)
  })

  it('answers overlapping inspections of three runs, more than the engine worker caches', async () => {
    // A third finished run: the worker keeps two sessions, so requests for three at once push a
    // session out while another request may still be reading it.
    const { runId } = await app.handlers.startRun({ ...input, seed: 5 })
    await until(() => store.getRun(app.services.db, runId).status === 'done', WAIT_MS)
    const ids = (await app.handlers.listRuns()).filter((r) => r.status === 'done').map((r) => r.id)
    expect(ids.length).toBeGreaterThanOrEqual(3)
    const one = (id: number) =>
      Promise.all([app.handlers.inspectUser(id, 5, 6), app.handlers.projection(id, 10)])
    const alone = []
    for (const id of ids) alone.push(await one(id))
    for (let round = 0; round < 3; round++) expect(await Promise.all(ids.map(one))).toEqual(alone)
  })
})
