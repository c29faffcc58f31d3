// Pure renderer helpers: chart scales/ticks, metric grouping per training stage, CSV export, formats.
import { describe, expect, it } from 'vitest'
import { extent, linearScale, niceTicks, tickLabel } from '../../../renderer/src/lib/scale'
import { chartGroups, metricKeys, xAccessor } from '../../../renderer/src/lib/metric-series'
import { toCsv } from '../../../renderer/src/lib/download'
import { INTEGER_INCREMENTS, integerX } from '../../../renderer/src/lib/chart-data'
import { fmtDuration, fmtEta, fmtPct } from '../../../renderer/src/lib/format'
import type { MetricPoint } from '../../../preload/api'

describe('scale', () => {
  it('picks 1/2/5 steps covering the domain', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1])
    expect(niceTicks(3, 97, 4)).toEqual([20, 40, 60, 80])
    expect(niceTicks(2, 2)).toEqual([2])
  })
  it('maps domain ends onto range ends (inverted y axis too)', () => {
    const y = linearScale([0, 10], [200, 20])
    expect(y(0)).toBe(200)
    expect(y(10)).toBe(20)
    expect(y(5)).toBe(110)
  })
  it('widens a zero-width domain instead of dividing by zero', () => {
    const x = linearScale([4, 4], [0, 100])
    expect(x(4)).toBe(50)
  })
  it('ignores non-finite values in extent', () => {
    expect(extent([3, NaN, -1, Infinity, 7])).toEqual([-1, 7])
    expect(extent([])).toEqual([0, 1])
  })
  it('labels ticks compactly', () => {
    expect(tickLabel(0.30000000000000004)).toBe('0.3')
    expect(tickLabel(250000)).toBe('2.5e+5')
  })
})

describe('metric series', () => {
  const p = (stage: MetricPoint['stage'], step: number, name: string, value: number): MetricPoint => ({
    stage,
    step,
    epoch: 0,
    name,
    value,
  })
  it("gives each stage's loss its own panel (schedule order), metrics their own, marks single points", () => {
    const groups = chartGroups([
      p('finetune', 4, 'loss', 0.5),
      p('collaborative', 2, 'loss', 3),
      p('collaborative', 1, 'loss', 4),
      p('finetune', 4, 'val.recall20', 0.1),
      p('finetune', 3, 'val.recall20', 0.05),
      p('eval', 5, 'test.ndcg100', 0.05),
      p('content', 2, 'mutual', 0.7),
    ])
    // One panel per stage's loss, in schedule order, then validation and test.
    expect(groups.map((g) => g.key)).toEqual([
      'loss-collaborative',
      'loss-content',
      'loss-finetune',
      'val',
      'test',
    ])
    expect(groups.map((g) => g.title)[0]).toBe('Collaborative LLM (L-step) loss')
    expect(groups[1].series.map((s) => s.name)).toEqual(['mutual'])
    expect(groups[0].series[0].points).toEqual([
      [1, 4],
      [2, 3],
    ])
    expect(groups.map((g) => g.single)).toEqual([false, true, true, false, true])
    expect(groups[3].series).toEqual([
      {
        name: 'val.recall20',
        points: [
          [3, 0.05],
          [4, 0.1],
        ],
      },
    ])
  })
  it('puts points on a wall-clock axis in minutes since the first, skipping untimed ones', () => {
    const at = (step: number, atMs: number | undefined): MetricPoint => ({
      ...p('content', step, 'loss', step),
      ...(atMs === undefined ? {} : { atMs }),
    })
    const pts = [at(1, 60_000), at(2, 180_000), at(3, undefined)]
    expect(xAccessor(pts, 'time')(pts[1])).toBe(2)
    expect(xAccessor(pts, 'step')(pts[2])).toBe(3)
    expect(chartGroups(pts, 'time')[0].series[0].points).toEqual([
      [0, 1],
      [2, 2],
    ])
  })
  it('lists stage/name keys once', () => {
    expect(
      metricKeys([p('content', 1, 'loss', 1), p('content', 2, 'loss', 1), p('eval', 1, 'recall20', 0)]),
    ).toEqual(['content/loss', 'eval/recall20'])
  })
})

describe('csv + formats', () => {
  it('quotes commas, quotes and newlines (RFC 4180)', () => {
    expect(
      toCsv(
        ['a', 'b'],
        [
          ['x,y', 'say "hi"'],
          [1, undefined],
          ['two\nlines', 2],
        ],
      ),
    ).toBe('a,b\n"x,y","say ""hi"""\n1,\n"two\nlines",2\n')
  })
  it('formats durations, ETA and percentages', () => {
    expect(fmtDuration(59)).toBe('59s')
    expect(fmtDuration(125)).toBe('2m 5s')
    expect(fmtDuration(7300)).toBe('2h 1m')
    expect(fmtEta(0)).toBe('')
    expect(fmtEta(90)).toBe('ETA 1m 30s')
    expect(fmtPct(0.1234)).toBe('12.3%')
  })
})

describe('integer x axes', () => {
  it('uses whole-number tick steps only when every x is whole', () => {
    expect(INTEGER_INCREMENTS.slice(0, 7)).toEqual([1, 2, 5, 10, 20, 50, 100])
    expect(INTEGER_INCREMENTS.every(Number.isInteger)).toBe(true)
    const steps = {
      name: 'loss',
      points: [
        [0, 1],
        [1, 0.5],
        [2, 0.4],
      ] as [number, number][],
    }
    const fractional = {
      name: 'epoch',
      points: [
        [0.5, 1],
        [1, 0.5],
      ] as [number, number][],
    }
    expect(integerX([steps])).toBe(true)
    expect(integerX([steps, fractional])).toBe(false)
  })
})
