// `train` / `baselines --dataset <name|id>` from the workbench store: a small generated CSV is imported into
// a temp SQLite file, then the CLI command (in-process, real store, real baselines) resolves it by name,
// by id, and through CLLM4REC_DB; an unknown name fails with the available names listed.
import * as tf from '@tensorflow/tfjs'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { UsageError } from '../../../main/cli/args'
import { breakdownCommands } from '../../../main/cli/breakdown-command'
import { openRunFolder, resolveDataset, trainCommands } from '../../../main/cli/train-commands'
import { runBreakdown } from '../../../main/worker/breakdown-op'
import { importDataset, openStore } from '../../../main/store'
import { Rng } from '../../../main/engine/train/rng'
import { tempDir } from '../../unit/data/helpers'

const t = tempDir('cllm4rec-cli-train-')
const db = path.join(t.dir, 'train.db')
let datasetId = 0

/** 60 users x 12 items each over 40 items, clustered so EASE and Mult-VAE have signal; ~720 rows. */
function writeCsv(file: string): void {
  const rng = new Rng(11)
  const lines = ['user,item,rating,timestamp,text']
  for (let u = 0; u < 60; u++) {
    const group = u % 4
    const seen = new Set<number>()
    while (seen.size < 12) {
      const i = rng.next() < 0.8 ? group * 10 + Math.floor(rng.next() * 10) : Math.floor(rng.next() * 40)
      if (seen.has(i)) continue
      seen.add(i)
      lines.push(
        `u${u},i${i},${1 + Math.floor(rng.next() * 5)},${1_600_000_000 + seen.size * 86_400},"nice item ${i}"`,
      )
    }
  }
  fs.writeFileSync(file, lines.join('\n') + '\n')
}

async function run(
  name: 'baselines' | 'train' | 'breakdown' | 'recommend',
  argv: string[],
): Promise<{ code: number; out: string }> {
  let out = ''
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true))
  const e = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
  try {
    const cmd = name === 'breakdown' ? breakdownCommands[name] : trainCommands[name]
    const code = await (typeof cmd === 'function' ? cmd(argv) : cmd.run(argv))
    return { code, out }
  } finally {
    o.mockRestore()
    e.mockRestore()
  }
}

function expectBaselines(out: string, name: string): void {
  const res = JSON.parse(out)
  expect(res.dataset).toBe(name)
  expect(res.rows.map((r: { model: string }) => r.model)).toEqual(['Popularity', 'EASE', 'Mult-VAE'])
  for (const r of res.rows as { recall20: number; recall40: number; ndcg100: number }[]) {
    for (const v of [r.recall20, r.recall40, r.ndcg100]) {
      expect(Number.isFinite(v)).toBe(true)
      expect(v).toBeGreaterThanOrEqual(0)
      expect(v).toBeLessThanOrEqual(1)
    }
  }
  // On clustered data EASE must find more than popularity does.
  expect(res.rows[1].recall20).toBeGreaterThan(res.rows[0].recall20)
}

beforeAll(async () => {
  const csv = path.join(t.dir, 'small.csv')
  writeCsv(csv)
  const store = openStore(db)
  try {
    const r = await importDataset(store, { path: csv, name: 'small-csv', split: [0.8, 0.1, 0.1], seed: 1 })
    datasetId = r.datasetId
  } finally {
    store.close()
  }
})
afterAll(t.cleanup)

describe('train CLI with store datasets', () => {
  it('baselines --dataset <name> --db FILE prints three finite baselines', async () => {
    const r = await run('baselines', ['--dataset', 'small-csv', '--db', db, '--json', '--vae-epochs', '2'])
    expect(r.code).toBe(0)
    expectBaselines(r.out, 'small-csv')
  }, 120_000)

  it('accepts a dataset id, and finds the database through CLLM4REC_DB', async () => {
    const prev = process.env.CLLM4REC_DB
    process.env.CLLM4REC_DB = db
    try {
      const r = await run('baselines', ['--dataset', String(datasetId), '--json', '--vae-epochs', '2'])
      expect(r.code).toBe(0)
      expectBaselines(r.out, 'small-csv')
    } finally {
      if (prev === undefined) delete process.env.CLLM4REC_DB
      else process.env.CLLM4REC_DB = prev
    }
  }, 120_000)

  it('an unknown name is a usage error listing the available datasets', async () => {
    const p = run('train', ['--dataset', 'no-such-set', '--db', db])
    await expect(p).rejects.toThrow(UsageError)
    await expect(p).rejects.toThrow(
      /no-such-set.*no dataset of that name or id.*available: small-csv \(id \d+\)/,
    )
  })

  it('a missing database file is named in the error, and nothing is created', async () => {
    const missing = path.join(t.dir, 'absent.db')
    await expect(resolveDataset('small-csv', { db: missing })).rejects.toThrow(
      /no workbench database at .*absent\.db/,
    )
    expect(fs.existsSync(missing)).toBe(false)
  })

  it('breakdown --run DIR splits a trained run and the baselines by history length and item popularity', async () => {
    const dir = path.join(t.dir, 'run')
    const config = path.join(t.dir, 'tiny.json')
    fs.writeFileSync(
      config,
      JSON.stringify({
        scratch: { layers: 1, width: 16, heads: 2, context: 64, epochs: 1, vocabSize: 300 },
        warmupEpochs: 1,
        rounds: 1,
        finetuneEpochs: 2,
        evalEvery: 1,
        batchSize: 16,
      }),
    )
    const trained = await run('train', [
      ...['--dataset', 'small-csv', '--db', db, '--preset', 'fast', '--config', config],
      ...['--out', dir, '--no-baselines', '--json'],
    ])
    expect(trained.code).toBe(0)
    const ours = JSON.parse(trained.out).rows[0]
    const base = JSON.parse(
      (await run('baselines', ['--dataset', 'small-csv', '--db', db, '--json', '--vae-epochs', '1'])).out,
    )
    const tensors = tf.memory().numTensors
    const r = await run('breakdown', ['--run', dir, '--db', db, '--json', '--vae-epochs', '1'])
    expect(r.code).toBe(0)
    // The run's tables and backbone, EASE and Mult-VAE are all released when the command ends.
    expect(tf.memory().numTensors).toBe(tensors)
    const b = JSON.parse(r.out)
    expect(b).toMatchObject({
      dataset: 'small-csv',
      split: 'test',
      protocol: expect.stringMatching(/; test split$/),
      models: ['CLLM4Rec', 'Popularity', 'EASE', 'Mult-VAE'],
    })
    type Row = { axis: string; group: string; count: number; values: Record<string, number | null> }
    const rows = b.rows as Row[]
    const all = rows.find((x) => x.group === 'all')!
    // The overall figures are the ones train and baselines print for the same models.
    expect(all.values.CLLM4Rec).toBeCloseTo(ours.recall20, 6)
    expect(all.values.EASE).toBeCloseTo(base.rows[1].recall20, 6)
    expect(all.values.Popularity).toBeCloseTo(base.rows[0].recall20, 6)
    expect(all.values['Mult-VAE']).toBeCloseTo(base.rows[2].recall20, 6)
    const hist = rows.filter((x) => x.axis === 'history' && x.group !== 'all')
    const pop = rows.filter((x) => x.axis === 'popularity')
    expect(hist.map((x) => x.group)).toEqual(['1–3', '4–5', '6–9', '10–19', '20+'])
    expect(hist.reduce((s, x) => s + x.count, 0)).toBe(all.count)
    expect(pop.reduce((s, x) => s + x.count, 0)).toBeGreaterThanOrEqual(all.count)
    for (const x of [...hist, ...pop])
      for (const v of Object.values(x.values)) {
        if (x.count === 0)
          expect(v).toBeNull() // NaN in JSON
        else {
          expect(v).toBeGreaterThanOrEqual(0)
          expect(v).toBeLessThanOrEqual(1)
        }
      }
    // The user-weighted mean of the history groups is the overall figure.
    const mean = hist.reduce((s, x) => s + x.count * (x.values.EASE ?? 0), 0) / all.count
    expect(mean).toBeCloseTo(all.values.EASE!, 6)

    // The app's worker op on the same run: the same overall figure, and nothing left behind but what
    // the caller disposes (the session).
    const before = tf.memory().numTensors
    const opened = await openRunFolder(dir, db, undefined)
    const app = await runBreakdown(opened.session, {
      split: 'test',
      multVaeEpochs: null,
      validationSelected: true,
      signal: new AbortController().signal,
      onProgress: () => {},
    })
    opened.session.dispose()
    expect(tf.memory().numTensors).toBe(before)
    expect(app.history[0].values.CLLM4Rec).toBeCloseTo(all.values.CLLM4Rec!, 6)
    expect(app.history[0].values.EASE).toBeCloseTo(all.values.EASE!, 6)

    // The same run folder serves recommend; a folder that is not a run is named before anything loads.
    const rec = JSON.parse(
      (await run('recommend', ['--run', dir, '--db', db, '--user', '0', '-k', '3', '--json'])).out,
    )
    expect(rec.recommendations).toHaveLength(3)
    const missing = path.join(t.dir, 'not-a-run')
    await expect(run('breakdown', ['--run', missing, '--db', db])).rejects.toThrow(
      new RegExp(`--run ${missing}: no run.json \\(not a run folder\\)`),
    )
  }, 300_000)
})
