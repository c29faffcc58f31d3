// Results as an experiment tracker: every run and baseline grouped by dataset, then evaluation protocol
// (never ranked across either, paper §7), filtered by dataset, sweep and a search, sorted by any column;
// run selection for curve overlays, the hyperparameter table and the diff of any number of runs.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { MetricPoint, ResultRow, RunDetail, RunMetaPatch } from '../../../preload/api'
import { api, errorText } from '../api'
import { useAppEvent } from '../composables/use-app-events'
import { groupResults, type SortKey } from '../lib/result-groups'

export const useResultsStore = defineStore('results', () => {
  const rows = ref<ResultRow[]>([])
  const selected = ref<number[]>([])
  const curves = ref<Record<number, MetricPoint[]>>({})
  const details = ref<Record<number, RunDetail>>({})
  const error = ref('')
  const baselineError = ref('')
  /** The running baselines call: its stage from 'baselines.progress' events, and cancel. */
  const baselineJob = ref<{
    datasetId: number
    fraction: number
    etaSec: number | null
    message: string
    cancelling: boolean
  } | null>(null)
  const baselinesBusy = computed(() => baselineJob.value !== null)
  /** null = every dataset (each still in its own group). */
  const datasetId = ref<number | null>(null)
  const sweep = ref<string | null>(null)
  const search = ref('')
  const sortKey = ref<SortKey>('recall20')
  const sortDesc = ref(true)

  const sweeps = computed(() => [...new Set(rows.value.flatMap((r) => (r.sweep ? [r.sweep] : [])))])

  const groups = computed(() =>
    groupResults(rows.value, {
      datasetId: datasetId.value,
      sweep: sweep.value,
      search: search.value,
      sortKey: sortKey.value,
      sortDesc: sortDesc.value,
    }),
  )

  function sortBy(key: SortKey): void {
    if (sortKey.value === key) sortDesc.value = !sortDesc.value
    else {
      sortKey.value = key
      sortDesc.value = key !== 'name' && key !== 'model'
    }
  }

  async function refresh(): Promise<void> {
    try {
      rows.value = await api.results()
      error.value = ''
      // Selections from a deep link load their curves and details once the rows are known.
      await Promise.all(selected.value.filter((id) => !details.value[id]).map(load))
    } catch (err) {
      error.value = errorText(err)
    }
  }

  // A window that reloaded during a call (or another window) adopts it from its events: progress and
  // Cancel show, and the call's end arrives as 'baselines.status'.
  let awaiting = false
  useAppEvent('baselines.progress', (e) => {
    const step = { fraction: e.fraction, etaSec: e.etaSec, message: e.message }
    const j = baselineJob.value
    if (j?.datasetId === e.datasetId) Object.assign(j, step)
    else if (!j) baselineJob.value = { datasetId: e.datasetId, cancelling: false, ...step }
  })
  useAppEvent('baselines.status', (e) => {
    if (awaiting || baselineJob.value?.datasetId !== e.datasetId) return
    baselineJob.value = null
    baselineError.value = e.error ?? ''
    if (e.status === 'done') void refresh()
  })

  /** Popularity, EASE and Mult-VAE on the dataset's split, scored by the same evaluator as the runs. */
  async function runBaselines(id: number): Promise<void> {
    baselineJob.value = { datasetId: id, fraction: 0, etaSec: null, message: 'Popularity', cancelling: false }
    baselineError.value = ''
    awaiting = true
    try {
      await api.runBaselines(id)
      await refresh()
    } catch (err) {
      baselineError.value = errorText(err)
    } finally {
      awaiting = false
      baselineJob.value = null
    }
  }

  async function cancelBaselines(): Promise<void> {
    const j = baselineJob.value
    if (!j) return
    j.cancelling = true
    try {
      await api.cancelBaselines(j.datasetId)
    } catch (err) {
      baselineError.value = errorText(err)
    }
  }

  async function load(runId: number): Promise<void> {
    try {
      const [m, d] = await Promise.all([api.runMetrics(runId), api.getRun(runId)])
      curves.value[runId] = m
      details.value[runId] = d
      error.value = ''
    } catch (err) {
      error.value = errorText(err)
    }
  }

  async function toggle(runId: number): Promise<void> {
    const i = selected.value.indexOf(runId)
    if (i >= 0) {
      selected.value.splice(i, 1)
      return
    }
    selected.value.push(runId)
    await load(runId)
  }

  /** Selects every run the filters show (e.g. all runs of a sweep, for the hyperparameter table). */
  async function selectVisible(): Promise<void> {
    const ids = groups.value.flatMap((g) => g.rows.flatMap((r) => (r.runId !== undefined ? [r.runId] : [])))
    const added = ids.filter((id) => !selected.value.includes(id))
    selected.value.push(...added)
    await Promise.all(added.map(load))
  }

  function clearSelection(): void {
    selected.value = []
  }

  /** Details (config, prompts) of every run, for the CSV export. */
  async function allDetails(): Promise<Record<number, RunDetail>> {
    const ids = rows.value.flatMap((r) => (r.runId !== undefined && !details.value[r.runId] ? [r.runId] : []))
    const got = await Promise.all(ids.map((id) => api.getRun(id)))
    for (const d of got) details.value[d.id] = d
    return details.value
  }

  async function updateMeta(runId: number, patch: RunMetaPatch): Promise<boolean> {
    try {
      await api.updateRun(runId, patch)
      await refresh()
      details.value[runId] = await api.getRun(runId)
      return true
    } catch (err) {
      error.value = errorText(err)
      return false
    }
  }

  return {
    rows,
    selected,
    curves,
    details,
    error,
    baselineError,
    baselinesBusy,
    baselineJob,
    datasetId,
    sweep,
    sweeps,
    search,
    sortKey,
    sortDesc,
    groups,
    sortBy,
    refresh,
    runBaselines,
    cancelBaselines,
    toggle,
    selectVisible,
    clearSelection,
    allDetails,
    updateMeta,
  }
})
