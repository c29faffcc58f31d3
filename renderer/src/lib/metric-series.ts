// Turn flat metric points into chart series: one chart per training stage (paper §5-§6: warm-up,
// collaborative L-step, content C-step, finetuning, evaluation), one line per metric name.
import type { MetricPoint, Stage } from '../../../preload/api'
import type { LineSeries } from '../components/charts/line-chart.vue'

export const STAGE_LABEL: Record<Stage, string> = {
  backbone: 'Backbone',
  warmup: 'Content warm-up',
  collaborative: 'Collaborative LLM (L-step)',
  content: 'Content LLM (C-step)',
  finetune: 'RecLLM finetuning',
  eval: 'Validation metrics',
}

export function seriesByStage(points: MetricPoint[]): { stage: Stage; series: LineSeries[] }[] {
  const stages = new Map<Stage, Map<string, [number, number][]>>()
  for (const p of points) {
    const byName = stages.get(p.stage) ?? new Map<string, [number, number][]>()
    stages.set(p.stage, byName)
    const list = byName.get(p.name) ?? []
    byName.set(p.name, list)
    list.push([p.step, p.value])
  }
  const order = Object.keys(STAGE_LABEL) as Stage[]
  return [...stages.entries()]
    .sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0]))
    .map(([stage, byName]) => ({
      stage,
      series: [...byName.entries()].map(([name, pts]) => ({ name, points: pts.sort((a, b) => a[0] - b[0]) })),
    }))
}

/** Metric names across runs, e.g. for the Results overlay's metric select. */
export function metricKeys(points: MetricPoint[]): string[] {
  return [...new Set(points.map((p) => `${p.stage}/${p.name}`))].sort()
}
