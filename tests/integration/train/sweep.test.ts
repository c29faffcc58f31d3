// `cli sweep` as a real child process on a real store: every grid point becomes a workbench run tagged
// with the sweep, selection follows validation only, and bad grids fail before anything runs.
import Database from 'better-sqlite3'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gridPoints, parseGridAxis, selectOnValidation, type SweepRow } from '../../../main/cli/sweep-command'
import { selectionScore } from '../../../main/engine/eval/metrics'

const ROOT = path.resolve(__dirname, '../../..')
let tmp: string

function cli(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'main/cli/index.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, CLLM4REC_THREADS: '1' },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  })
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-'))
})
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

const m = (r20: number) => ({ recall20: r20, recall40: r20, ndcg100: r20 })

describe('sweep grid and selection', () => {
  it('parses typed values and expands the grid, first axis slowest', () => {
    expect(parseGridAxis('lambdaC=1,10,4e1')).toEqual({ key: 'lambdaC', values: [1, 10, 40] })
    expect(parseGridAxis('finetuneContent=true,false').values).toEqual([true, false])
    expect(parseGridAxis('dropout=null,0.1').values).toEqual([null, 0.1])
    expect(() => parseGridAxis('lambdaC')).toThrow(/key=v1,v2/)
    expect(() => parseGridAxis('lambdaC=1,,2')).toThrow(/empty value/)
    const pts = gridPoints([parseGridAxis('a=1,2'), parseGridAxis('b=x,y,z')])
    expect(pts).toHaveLength(6)
    expect(pts[0]).toEqual({ a: 1, b: 'x' })
    expect(pts[3]).toEqual({ a: 2, b: 'x' })
  })

  it('selects on validation only, never on test, and only among finished runs', () => {
    const rows: SweepRow[] = [
      { point: { k: 1 }, runId: 1, status: 'done', val: m(0.2), test: m(0.9), minutes: 1 },
      { point: { k: 2 }, runId: 2, status: 'done', val: m(0.3), test: m(0.1), minutes: 1 },
      { point: { k: 3 }, runId: 3, status: 'cancelled', val: m(0.8), minutes: 1 },
      { point: { k: 4 }, runId: null, status: 'skipped', minutes: 0 },
    ]
    expect(selectOnValidation(rows)).toBe(1)
    expect(selectOnValidation(rows.slice(2))).toBe(-1)
  })
})

describe('cli sweep', () => {
  it('rejects an unknown config key before running anything', () => {
    const db = path.join(tmp, 'bad.db')
    const r = cli('sweep', '--dataset', 'demo', '--grid', 'lambdaX=1,2', '--db', db)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/point "lambdaX=1".*unknown key "lambdaX"/)
    expect(fs.existsSync(db)).toBe(false)
  })

  it('runs every point as a stored run of one sweep and reports the validation-selected config', () => {
    const db = path.join(tmp, 'sweep.db')
    const r = cli(
      'sweep',
      '--dataset',
      'demo',
      '--grid',
      'lambdaC=1,10',
      '--epochs-scale',
      '0.02',
      '--name',
      'lc',
      '--db',
      db,
      '--json',
    )
    expect(r.stderr).not.toMatch(/failed/)
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string)
    expect(out.sweep).toBe('lc')
    expect(out.rows.map((x: SweepRow) => x.point.lambdaC)).toEqual([1, 10])
    expect(out.rows.every((x: SweepRow) => x.status === 'done' && x.val && x.test)).toBe(true)
    const scores = out.rows.map((x: SweepRow) => selectionScore(x.val!))
    expect(out.selected).toBe(scores[1] > scores[0] ? 1 : 0)

    const sql = new Database(db, { readonly: true })
    try {
      const runs = sql.prepare('SELECT id, name, status, sweep, config_json FROM runs ORDER BY id').all() as {
        id: number
        name: string
        status: string
        sweep: string | null
        config_json: string
      }[]
      expect(runs).toHaveLength(2)
      for (const [i, run] of runs.entries()) {
        const c = JSON.parse(run.config_json)
        expect(run.status).toBe('done')
        expect(run.sweep).toBe('lc')
        expect(c.resolved.lambdaC).toBe([1, 10][i])
        expect(c.resolved.epochsScale).toBe(0.02)
        expect(run.name).toBe(`lc: lambdaC=${[1, 10][i]}`)
      }
      const vals = sql
        .prepare(
          "SELECT run_id, value FROM evaluations WHERE split = 'val' AND metric = 'recall20' ORDER BY run_id",
        )
        .all() as { run_id: number; value: number }[]
      expect(vals.map((v) => v.value)).toEqual(out.rows.map((x: SweepRow) => x.val!.recall20))
    } finally {
      sql.close()
    }
  }, 600_000)
})
