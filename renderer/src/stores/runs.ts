// Training runs: config schema + presets, backbone choice, estimate, start/cancel/resume, and the live
// state of every run (status, progress, metric series) kept current from AppEvents.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type {
  BackboneInfo,
  ConfigField,
  MetricPoint,
  RunDetail,
  RunEstimate,
  RunInput,
  RunProgress,
  RunSummary,
} from '../../../preload/api'
import { api, errorText } from '../api'
import { useAppEvents } from '../composables/use-app-events'

export const useRunsStore = defineStore('runs', () => {
  const fields = ref<ConfigField[]>([])
  const configPresets = ref<Record<string, Record<string, unknown>>>({})
  const preset = ref<RunInput['preset']>('paper')
  const overrides = ref<Record<string, unknown>>({})
  const backbones = ref<BackboneInfo[]>([])
  const backboneId = ref('')
  const seed = ref(1)
  const runName = ref('')
  const estimate = ref<RunEstimate | null>(null)
  const runs = ref<RunSummary[]>([])
  const selectedId = ref<number | null>(null)
  const detail = ref<RunDetail | null>(null)
  const metrics = ref<Record<number, MetricPoint[]>>({})
  const progress = ref<Record<number, RunProgress>>({})
  const error = ref('')
  const estimateError = ref('')

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

  /** The value a field takes: user override, else preset value, else the schema default. */
  function valueOf(key: string): unknown {
    if (key in overrides.value) return overrides.value[key]
    const p = configPresets.value[preset.value]
    if (p && key in p) return p[key]
    return fields.value.find((f) => f.key === key)?.default
  }

  async function loadSetup(): Promise<void> {
    try {
      const [schema, bbs] = await Promise.all([api.configSchema(), api.listBackbones()])
      fields.value = schema.fields
      configPresets.value = schema.presets
      backbones.value = bbs
      if (!backboneId.value && bbs.length > 0) backboneId.value = bbs[0].id
      error.value = ''
    } catch (err) {
      error.value = errorText(err)
    }
  }

  async function addBackboneFolder(): Promise<void> {
    try {
      const b = await api.pickBackboneFolder()
      if (!b) return
      if (!backbones.value.some((x) => x.id === b.id)) backbones.value.push(b)
      backboneId.value = b.id
    } catch (err) {
      error.value = errorText(err)
    }
  }

  async function refresh(): Promise<void> {
    try {
      runs.value = await api.listRuns()
      if (selectedId.value !== null) await select(selectedId.value)
    } catch (err) {
      error.value = errorText(err)
    }
  }

  async function select(id: number): Promise<void> {
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

  async function estimateFor(input: RunInput): Promise<void> {
    try {
      estimate.value = await api.estimateRun(input)
      estimateError.value = ''
    } catch (err) {
      estimate.value = null
      estimateError.value = errorText(err)
    }
  }

  async function start(input: RunInput): Promise<boolean> {
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
        await api.deleteRun(id)
        if (selectedId.value === id) {
          selectedId.value = null
          detail.value = null
        }
      }
      error.value = ''
      await refresh()
    } catch (err) {
      error.value = errorText(err)
    }
  }

  /** Queued runs in start order: the worker trains one run at a time. */
  const queue = computed(() => runs.value.filter((r) => r.status === 'queued').sort((a, b) => a.id - b.id))

  return {
    fields,
    configPresets,
    preset,
    overrides,
    backbones,
    backboneId,
    seed,
    runName,
    estimate,
    runs,
    selectedId,
    detail,
    metrics,
    progress,
    error,
    estimateError,
    queue,
    valueOf,
    loadSetup,
    addBackboneFolder,
    refresh,
    select,
    estimateFor,
    start,
    act,
  }
})
