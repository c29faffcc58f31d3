// The experiment tracker's pure parts: result groups (dataset, then protocol), filters and sorting,
// the CSV with seed / config / prompts, the N-run hyperparameter table, parallel axes, chart data
// (alignment, smoothing, log) and deep-link hashes.
import { describe, expect, it } from 'vitest'
import type { PromptTemplates, ResultRow, RunDetail } from '../../../preload/api'
import { groupResults, type ResultFilter } from '../../../renderer/src/lib/result-groups'
import { exportResultsCsv, RESULTS_CSV_HEADER } from '../../../renderer/src/lib/results-csv'
import { hyperparameterTable } from '../../../renderer/src/lib/run-diff'
import { axisPos, parallelAxes } from '../../../renderer/src/lib/parallel-axes'
import { alignSeries, forLog, smooth } from '../../../renderer/src/lib/chart-data'
import { formatHash, idList, parseHash } from '../../../renderer/src/lib/hash-route'

const m = (r: number) => ({ recall20: r, recall40: r * 1.5, ndcg100: r / 2 })
const run = (id: number, datasetId: number, r: number, extra: Partial<ResultRow> = {}): ResultRow => ({
  kind: 'run',
  runId: id,
  runName: `run-${id}`,
  model: 'CLLM4Rec',
  datasetId,
  datasetName: datasetId === 1 ? 'beauty18' : 'ml100k-r4',
  backbone: 'scratch',
  protocol: 'random 0.8/0.1/0.1 seed 1',
  test: m(r),
  durationSec: 10,
  seed: id,
  tags: [],
  sweep: null,
  ...extra,
})
const ALL: ResultFilter = { datasetId: null, sweep: null, search: '', sortKey: 'recall20', sortDesc: true }

describe('result groups', () => {
  const rows = [
    run(1, 1, 0.2),
    run(2, 2, 0.9),
    run(3, 1, 0.3, { sweep: 'lr', tags: ['paper'] }),
    {
      ...run(0, 2, 0.5),
      kind: 'baseline' as const,
      runId: undefined,
      runName: undefined,
      model: 'EASE',
      seed: undefined,
    },
  ]
  it('never puts two datasets with the same protocol text in one group', () => {
    const g = groupResults(rows, ALL)
    expect(g.map((x) => x.datasetName)).toEqual(['beauty18', 'ml100k-r4'])
    expect(g[0].rows.map((r) => r.runId)).toEqual([3, 1])
    expect(g[1].rows.map((r) => r.model)).toEqual(['CLLM4Rec', 'EASE'])
  })
  it('filters by dataset, sweep (baselines stay) and search words', () => {
    expect(groupResults(rows, { ...ALL, datasetId: 2 }).map((g) => g.datasetId)).toEqual([2])
    const sweep = groupResults(rows, { ...ALL, sweep: 'lr' })
    expect(sweep.flatMap((g) => g.rows.map((r) => r.runId ?? r.model))).toEqual([3, 'EASE'])
    const found = groupResults(rows, { ...ALL, search: 'PAPER run-3' })
    expect(found.flatMap((g) => g.rows.map((r) => r.runId ?? r.model))).toEqual([3, 'EASE'])
  })
  it('sorts by any column, both ways, missing values last', () => {
    const asc = groupResults(rows, { ...ALL, sortKey: 'seed', sortDesc: false })
    expect(asc[1].rows.map((r) => r.runId ?? r.model)).toEqual([2, 'EASE'])
    const desc = groupResults(rows, { ...ALL, sortKey: 'seed', sortDesc: true })
    expect(desc[0].rows.map((r) => r.runId)).toEqual([3, 1])
    expect(desc[1].rows.map((r) => r.runId ?? r.model)).toEqual([2, 'EASE'])
  })
})

const templates: PromptTemplates = {
  collaborative: '{user} has interacted with',
  review: '{user} writes the following review for {item}:',
  itemText: '{item} is described as:',
  userText: '{user} is described as:',
  recommendation: '{user} has interacted with {items}, the user will interact with',
}
const detail = (id: number, lr: number, seed: number, r: number): RunDetail =>
  ({
    id,
    name: `run-${id}`,
    config: { lrPretrain: lr, scratch: { layers: 2 }, backbone: 'scratch' },
    templates,
    seed,
    backbone: 'scratch',
    datasetName: 'beauty18',
    dataHash: 'h',
    test: m(r),
  }) as unknown as RunDetail

describe('exports and tables', () => {
  it('writes seed, sweep, tags, config and prompts per run into the CSV', () => {
    const groups = groupResults([run(1, 1, 0.2, { sweep: 'lr', tags: ['a', 'b'] })], ALL)
    const csv = exportResultsCsv(groups, { 1: detail(1, 0.001, 7, 0.2) })
    const [head, line] = csv.trim().split('\n')
    expect(head).toBe(RESULTS_CSV_HEADER.join(','))
    expect(head).toContain('seed')
    expect(line.startsWith('run,1,run-1,CLLM4Rec,beauty18,')).toBe(true)
    expect(line).toContain(',lr,a;b,1,scratch,0.2,')
    expect(line).toContain('""lrPretrain"":0.001')
    expect(line).toContain('{user} has interacted with')
  })
  it('tabulates the settings that differ across any number of runs', () => {
    const runs = [detail(1, 0.001, 1, 0.1), detail(2, 0.01, 1, 0.2), detail(3, 0.1, 2, 0.3)]
    const t = hyperparameterTable(runs)
    expect(t.map((r) => r.key)).toEqual(['lrPretrain', 'seed'])
    expect(t[0].values).toEqual(['0.001', '0.01', '0.1'])
    expect(hyperparameterTable(runs, true).map((r) => r.key)).toContain('scratch.layers')
  })
  it('puts differing numeric settings then test metrics on parallel axes', () => {
    const axes = parallelAxes([detail(1, 0.001, 1, 0.1), detail(2, 0.01, 1, 0.3)])
    expect(axes.map((a) => a.key)).toEqual(['lrPretrain', 'test.recall20', 'test.recall40', 'test.ndcg100'])
    expect(axisPos(axes[1], 0.3)).toBe(1)
    expect(axisPos({ key: 'c', min: 2, max: 2, values: [2] }, 2)).toBe(0.5)
  })
})

describe('chart data', () => {
  it('aligns series on the union of their x values with gaps', () => {
    expect(
      alignSeries([
        {
          name: 'a',
          points: [
            [1, 10],
            [3, 30],
          ],
        },
        { name: 'b', points: [[2, 2]] },
      ]),
    ).toEqual([
      [1, 2, 3],
      [10, null, 30],
      [null, 2, null],
    ])
  })
  it('smooths with a debiased EMA that skips gaps; 0 is raw', () => {
    const ys = [1, null, 3, 3]
    expect(smooth(ys, 0)).toBe(ys)
    const s = smooth(ys, 0.5)
    expect(s[0]).toBeCloseTo(1)
    expect(s[1]).toBeNull()
    expect(s[2]).toBeCloseTo((0.25 * 1 + 0.5 * 3) / 0.75)
    expect(forLog([0, -1, 2, null])).toEqual([null, null, 2, null])
  })
})

describe('deep links', () => {
  it('round-trips the view and its selection', () => {
    const h = formatHash({ view: 'results', params: { runs: '3,5', dataset: '', sweep: 'lr grid' } })
    expect(h).toBe('#/results?runs=3%2C5&sweep=lr+grid')
    expect(parseHash(h)).toEqual({ view: 'results', params: { runs: '3,5', sweep: 'lr grid' } })
    expect(parseHash('#junk')).toEqual({ view: '', params: {} })
    expect(idList('3,5,x,3,-1')).toEqual([3, 5])
  })
})
