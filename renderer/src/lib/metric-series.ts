// Turn flat metric points into chart series (paper §5-§6 schedule): one "loss per stage" chart with a
// line per stage (warm-up, collaborative L-step, content C-step, finetuning), plus validation and test
// metric charts, so losses and recalls never share one y axis.
import type { MetricPoint, Stage } from '../../../preload/api'
import type { LineSeries } from '../components/charts/line-chart.vue'

export const STAGE_LABEL: Record<Stage, string> = {
  backbone: 'Backbone',
  warmup: 'Content warm-up',
  collaborative: 'Collaborative LLM (L-step)',
  content: 'Content LLM (C-step)',
  finetune: 'RecLLM finetuning',
  eval: 'Evaluation',
}
const STAGE_ORDER = Object.keys(STAGE_LABEL) as Stage[]

export interface ChartGroup {
  key: 'loss' | 'val' | 'test'
  title: string
  series: LineSeries[]
}

/** 'val.recall20' -> 'val'; anything without a val./test. prefix is a loss-like training curve. */
function family(name: string): ChartGroup['key'] {
  if (name.startsWith('val.') || name.startsWith('val_')) return 'val'
  if (name.startsWith('test.') || name.startsWith('test_')) return 'test'
  return 'loss'
}

export function chartGroups(points: MetricPoint[]): ChartGroup[] {
  const groups: Record<ChartGroup['key'], Map<string, { order: number; points: [number, number][] }>> = {
    loss: new Map(),
    val: new Map(),
    test: new Map(),
  }
  for (const p of points) {
    const fam = family(p.name)
    // Loss lines are named by stage (plus the metric name when a stage logs several).
    const label =
      fam === 'loss' ? `${STAGE_LABEL[p.stage]}${p.name === 'loss' ? '' : ` · ${p.name}`}` : p.name
    const order = fam === 'loss' ? STAGE_ORDER.indexOf(p.stage) : 0
    const entry = groups[fam].get(label) ?? { order, points: [] }
    groups[fam].set(label, entry)
    entry.points.push([p.step, p.value])
  }
  const titles = { loss: 'Training loss per stage', val: 'Validation metrics', test: 'Test metrics' }
  return (['loss', 'val', 'test'] as const)
    .filter((k) => groups[k].size > 0)
    .map((k) => ({
      key: k,
      title: titles[k],
      series: [...groups[k].entries()]
        .sort((a, b) => a[1].order - b[1].order)
        .map(([name, e]) => ({ name, points: e.points.sort((a, b) => a[0] - b[0]) })),
    }))
}

/** Metric names across runs, e.g. for the Results overlay's metric select. */
export function metricKeys(points: MetricPoint[]): string[] {
  return [...new Set(points.map((p) => `${p.stage}/${p.name}`))].sort()
}
