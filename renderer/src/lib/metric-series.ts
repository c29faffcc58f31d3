// Turn flat metric points into chart series (paper §5-§6 schedule): one loss panel per stage (warm-up,
// collaborative L-step, content C-step, finetuning), plus validation and test metrics, so losses of
// different scales and recalls never share one y axis.
import type { MetricPoint, Stage } from '../../../preload/api'
import type { LineSeries } from './chart-data'

export const STAGE_LABEL: Record<Stage, string> = {
  backbone: 'Backbone',
  warmup: 'Content warm-up',
  collaborative: 'Collaborative LLM (L-step)',
  content: 'Content LLM (C-step)',
  finetune: 'RecLLM finetuning',
  eval: 'Test evaluation',
}
const STAGE_ORDER = Object.keys(STAGE_LABEL) as Stage[]

export interface ChartGroup {
  /** 'loss-<stage>', 'val' or 'test'. */
  key: string
  title: string
  series: LineSeries[]
  /** Every series has at most one point (test metrics): a table says more than a chart. */
  single: boolean
}

/** 'val.recall20' -> 'val'; anything without a val./test. prefix is a loss-like training curve. */
function family(name: string): 'loss' | 'val' | 'test' {
  if (name.startsWith('val.') || name.startsWith('val_')) return 'val'
  if (name.startsWith('test.') || name.startsWith('test_')) return 'test'
  return 'loss'
}

/**
 * One panel per stage's loss (RecLLM's ~53 would flatten the others' ~4 on a shared axis), then
 * validation and test metrics; panels in schedule order.
 */
export type XAxis = 'step' | 'time'

/**
 * The x of a point: its schedule step, or minutes since the run's first logged point (wall clock,
 * pauses included); null when the point has no time (stored before schema v2).
 */
export function xAccessor(points: MetricPoint[], axis: XAxis): (p: MetricPoint) => number | null {
  if (axis === 'step') return (p) => p.step
  const times = points.flatMap((p) => (p.atMs === undefined ? [] : [p.atMs]))
  const t0 = times.length ? Math.min(...times) : 0
  return (p) => (p.atMs === undefined ? null : (p.atMs - t0) / 60_000)
}

export function chartGroups(points: MetricPoint[], axis: XAxis = 'step'): ChartGroup[] {
  const xOf = xAccessor(points, axis)
  const groups = new Map<string, { order: number; title: string; lines: Map<string, [number, number][]> }>()
  for (const p of points) {
    const fam = family(p.name)
    const key = fam === 'loss' ? `loss-${p.stage}` : fam
    const order = fam === 'loss' ? STAGE_ORDER.indexOf(p.stage) : fam === 'val' ? 100 : 101
    const title =
      fam === 'loss' ? `${STAGE_LABEL[p.stage]} loss` : fam === 'val' ? 'Validation metrics' : 'Test metrics'
    const g = groups.get(key) ?? { order, title, lines: new Map() }
    groups.set(key, g)
    const line = g.lines.get(p.name) ?? []
    g.lines.set(p.name, line)
    const x = xOf(p)
    if (x !== null) line.push([x, p.value])
  }
  return [...groups.entries()]
    .sort((a, b) => a[1].order - b[1].order)
    .map(([key, g]) => {
      const series = [...g.lines.entries()].map(([name, pts]) => ({
        name,
        points: pts.sort((a, b) => a[0] - b[0]),
      }))
      return { key, title: g.title, series, single: series.every((s) => s.points.length <= 1) }
    })
}

/** Metric names across runs, e.g. for the Results overlay's metric select. */
export function metricKeys(points: MetricPoint[]): string[] {
  return [...new Set(points.map((p) => `${p.stage}/${p.name}`))].sort()
}
