// Results: every run and baseline in one table grouped by evaluation protocol (never ranked across
// protocols, paper §7), run selection for curve overlays, and a config/prompt diff of two runs.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { MetricPoint, ResultRow, RunDetail } from '../../../preload/api'
import { api, errorText } from '../api'
import { diffRuns, type DiffRow } from '../lib/run-diff'

export const useResultsStore = defineStore('results', () => {
  const rows = ref<ResultRow[]>([])
  const selected = ref<number[]>([])
  const curves = ref<Record<number, MetricPoint[]>>({})
  const details = ref<Record<number, RunDetail>>({})
  const error = ref('')
  const baselineError = ref('')
  const baselinesBusy = ref(false)
  /** Run names by id: result rows carry only the model name, and every run is "CLLM4Rec". */
  const runNames = ref<Record<number, string>>({})

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
      const [r, runs] = await Promise.all([api.results(), api.listRuns()])
      rows.value = r
      runNames.value = Object.fromEntries(runs.map((x) => [x.id, x.name]))
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
    return a && b ? diffRuns(a, b) : null
  })

  return {
    rows,
    selected,
    curves,
    details,
    runNames,
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
