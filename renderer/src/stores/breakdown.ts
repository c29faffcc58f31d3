// Run breakdowns (Results): one call at a time, its stage from 'breakdown.progress' events with cancel, and
// the breakdowns computed this session by run and split (in memory only; main stores none).
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { EvalSplit, RunBreakdown } from '../../../preload/api'
import { api, errorText } from '../api'
import { useAppEvent } from '../composables/use-app-events'

const key = (runId: number, split: EvalSplit): string => `${runId}:${split}`

export const useBreakdownStore = defineStore('breakdown', () => {
  const results = ref<Record<string, RunBreakdown>>({})
  const job = ref<{
    runId: number
    fraction: number
    etaSec: number | null
    message: string
    cancelling: boolean
  } | null>(null)
  const error = ref<{ runId: number; message: string } | null>(null)
  /** Mult-VAE's default and largest epoch count, as main checks them; null until loaded. */
  const vaeEpochLimits = ref<{ default: number; max: number } | null>(null)
  const limitsError = ref('')

  async function loadLimits(): Promise<void> {
    if (vaeEpochLimits.value) return
    try {
      vaeEpochLimits.value = (await api.configSchema()).multVaeEpochs
      limitsError.value = ''
    } catch (err) {
      limitsError.value = errorText(err)
    }
  }

  function get(runId: number, split: EvalSplit): RunBreakdown | undefined {
    return results.value[key(runId, split)]
  }

  // A window that reloaded during a call (or another window) adopts it from its events, as the baselines do;
  // a finished call's breakdown reaches every window with its end.
  let awaiting = false
  useAppEvent('breakdown.progress', (e) => {
    const step = { fraction: e.fraction, etaSec: e.etaSec, message: e.message }
    if (job.value?.runId === e.runId) Object.assign(job.value, step)
    else if (!job.value) job.value = { runId: e.runId, cancelling: false, ...step }
  })
  useAppEvent('breakdown.status', (e) => {
    if (e.breakdown) results.value[key(e.runId, e.breakdown.split)] = e.breakdown
    if (awaiting || job.value?.runId !== e.runId) return
    job.value = null
    error.value = e.error ? { runId: e.runId, message: e.error } : null
  })

  /** multVaeEpochs: Mult-VAE is fitted for that many epochs; absent, it is left out. */
  async function compute(runId: number, split: EvalSplit, multVaeEpochs?: number): Promise<void> {
    job.value = { runId, fraction: 0, etaSec: null, message: 'Starting', cancelling: false }
    error.value = null
    awaiting = true
    try {
      const b = await api.runBreakdown(
        runId,
        split,
        multVaeEpochs === undefined ? {} : { multVae: true, multVaeEpochs },
      )
      results.value[key(runId, split)] = b
    } catch (err) {
      error.value = { runId, message: errorText(err) }
    } finally {
      awaiting = false
      job.value = null
    }
  }

  async function cancel(): Promise<void> {
    const j = job.value
    if (!j) return
    j.cancelling = true
    try {
      await api.cancelBreakdown(j.runId)
    } catch (err) {
      error.value = { runId: j.runId, message: errorText(err) }
    }
  }

  return { job, error, vaeEpochLimits, limitsError, get, loadLimits, compute, cancel }
})
