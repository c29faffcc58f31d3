// Training runs: start/cancel/resume/delete and the live state of every run (status, progress with
// ETA, metric series per stage) kept current from AppEvents. The next run's setup is in ./run-setup.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { MetricPoint, RunDetail, RunInput, RunProgress, RunSummary } from '../../../preload/api'
import { api, errorText } from '../api'
import { useUndoStore } from './undo'
import { useAppEvents } from '../composables/use-app-events'

export const useRunsStore = defineStore('runs', () => {
  const runs = ref<RunSummary[]>([])
  const selectedId = ref<number | null>(null)
  const detail = ref<RunDetail | null>(null)
  const metrics = ref<Record<number, MetricPoint[]>>({})
  const progress = ref<Record<number, RunProgress>>({})
  const error = ref('')
  /** Errors of cancel / resume / delete, shown next to those buttons. */
  const actionError = ref('')

  useAppEvents((e) => {
    if (e.type === 'run.progress') {
      const { type: _t, ...p } = e
      progress.value[e.runId] = p
    } else if (e.type === 'run.metric') {
      ;(metrics.value[e.runId] ??= []).push(e.point)
    } else if (e.type === 'run.status') {
      const r = runs.value.find((x) => x.id === e.runId)
      if (r) r.status = e.status
      if (detail.value?.id === e.runId) {
        detail.value.status = e.status
        if (e.error) detail.value.error = e.error
      }
      if (e.status !== 'running') void refresh()
    }
  })

  async function refresh(): Promise<void> {
    try {
      runs.value = await api.listRuns()
      if (selectedId.value !== null) await select(selectedId.value)
    } catch (err) {
      error.value = errorText(err)
    }
  }

  async function select(id: number): Promise<void> {
    if (selectedId.value !== id) actionError.value = ''
    selectedId.value = id
    try {
      const [d, m] = await Promise.all([api.getRun(id), api.runMetrics(id)])
      detail.value = d
      metrics.value[id] = m
      if (d.progress) progress.value[id] = d.progress
    } catch (err) {
      error.value = errorText(err)
    }
  }

  async function start(input: RunInput): Promise<boolean> {
    actionError.value = ''
    try {
      const { runId } = await api.startRun(input)
      error.value = ''
      metrics.value[runId] = []
      await refresh()
      await select(runId)
      return true
    } catch (err) {
      error.value = errorText(err)
      return false
    }
  }

  async function act(kind: 'cancel' | 'resume' | 'delete', id: number): Promise<void> {
    try {
      if (kind === 'cancel') await api.cancelRun(id)
      else if (kind === 'resume') await api.resumeRun(id)
      else {
        const name = runs.value.find((r) => r.id === id)?.name ?? `#${id}`
        await api.deleteRun(id)
        useUndoStore().show(`Run '${name}' deleted.`, async () => {
          await api.restoreRun(id)
          await refresh()
        })
        if (selectedId.value === id) {
          selectedId.value = null
          detail.value = null
        }
      }
      actionError.value = ''
      await refresh()
      // A resume that left the run stopped did nothing (e.g. its worker was still winding down):
      // say so here instead of leaving the user waiting for a run that never starts.
      const now = runs.value.find((r) => r.id === id)?.status
      if (kind === 'resume' && now && ['cancelled', 'interrupted', 'failed'].includes(now))
        actionError.value = `Run #${id} is still '${now}' after Resume: it did not start. Try again in a moment.`
    } catch (err) {
      actionError.value = errorText(err)
    }
  }

  /** Queued runs in start order: the worker trains one run at a time. */
  const queue = computed(() => runs.value.filter((r) => r.status === 'queued').sort((a, b) => a.id - b.id))

  return {
    runs,
    selectedId,
    detail,
    metrics,
    progress,
    error,
    actionError,
    queue,
    refresh,
    select,
    start,
    act,
  }
})
