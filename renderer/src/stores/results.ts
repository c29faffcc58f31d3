// Results: every run and baseline in one table grouped by evaluation protocol (never ranked across
// protocols, paper §7), run selection for curve overlays, and a config/prompt diff of two runs.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { MetricPoint, ResultRow, RunDetail } from '../../../preload/api'
import { api, errorText } from '../api'

export interface DiffRow {
  key: string
  a: string
  b: string
}

export const useResultsStore = defineStore('results', () => {
  const rows = ref<ResultRow[]>([])
  const selected = ref<number[]>([])
  const curves = ref<Record<number, MetricPoint[]>>({})
  const details = ref<Record<number, RunDetail>>({})
  const error = ref('')
  const baselineError = ref('')
  const baselinesBusy = ref(false)

  const byProtocol = computed(() => {
    const groups = new Map<string, ResultRow[]>()
    for (const r of rows.value) {
      const g = groups.get(r.protocol) ?? []
      g.push(r)
      groups.set(r.protocol, g)
    }
    // Within one protocol, best Recall@20 first.
    for (const g of groups.values()) g.sort((a, b) => b.test.recall20 - a.test.recall20)
    return [...groups.entries()].map(([protocol, list]) => ({ protocol, rows: list }))
  })

  async function refresh(): Promise<void> {
    try {
      rows.value = await api.results()
      error.value = ''
    } catch (err) {
      error.value = errorText(err)
    }
  }

  /** Popularity / EASE on the dataset's split, scored by the same evaluator as the runs. */
  async function runBaselines(datasetId: number): Promise<void> {
    baselinesBusy.value = true
    try {
      await api.runBaselines(datasetId)
      baselineError.value = ''
      await refresh()
    } catch (err) {
      baselineError.value = errorText(err)
    } finally {
      baselinesBusy.value = false
    }
  }

  async function toggle(runId: number): Promise<void> {
    const i = selected.value.indexOf(runId)
    if (i >= 0) {
      selected.value.splice(i, 1)
      return
    }
    selected.value.push(runId)
    try {
      const [m, d] = await Promise.all([api.runMetrics(runId), api.getRun(runId)])
      curves.value[runId] = m
      details.value[runId] = d
      error.value = ''
    } catch (err) {
      error.value = errorText(err)
    }
  }

  /** Config keys and prompt phrases that differ between the first two selected runs. */
  const diff = computed<DiffRow[] | null>(() => {
    if (selected.value.length < 2) return null
    const [a, b] = selected.value.slice(0, 2).map((id) => details.value[id])
    if (!a || !b) return null
    const out: DiffRow[] = []
    const show = (v: unknown): string =>
      v === undefined ? '–' : typeof v === 'string' ? v : JSON.stringify(v)
    const keys = new Set([...Object.keys(a.config), ...Object.keys(b.config)])
    for (const key of [...keys].sort()) {
      const [va, vb] = [show(a.config[key]), show(b.config[key])]
      if (va !== vb) out.push({ key, a: va, b: vb })
    }
    for (const kind of Object.keys({ ...a.templates, ...b.templates }) as (keyof RunDetail['templates'])[]) {
      if (a.templates[kind] !== b.templates[kind])
        out.push({ key: `prompt.${kind}`, a: show(a.templates[kind]), b: show(b.templates[kind]) })
    }
    for (const key of ['seed', 'backbone', 'datasetName', 'dataHash'] as const) {
      if (a[key] !== b[key]) out.push({ key, a: show(a[key]), b: show(b[key]) })
    }
    return out
  })

  return {
    rows,
    selected,
    curves,
    details,
    error,
    baselineError,
    baselinesBusy,
    byProtocol,
    diff,
    refresh,
    runBaselines,
    toggle,
  }
})
