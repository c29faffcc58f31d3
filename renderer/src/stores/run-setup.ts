// The next run's setup: config schema + presets (paper §8), user overrides, backbone choice, seed,
// name and the memory estimate. Kept apart from the live run state in ./runs.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { BackboneInfo, ConfigField, RunEstimate, RunInput } from '../../../preload/api'
import { api, errorText } from '../api'

export const useRunSetupStore = defineStore('run-setup', () => {
  const fields = ref<ConfigField[]>([])
  const configPresets = ref<Record<string, Record<string, unknown>>>({})
  const preset = ref<RunInput['preset']>('paper')
  const overrides = ref<Record<string, unknown>>({})
  const backbones = ref<BackboneInfo[]>([])
  const backboneId = ref('')
  const seed = ref(1)
  const runName = ref('')
  const estimate = ref<RunEstimate | null>(null)
  const error = ref('')
  const estimateError = ref('')

  /** The value a field takes: user override, else preset value, else the schema default. */
  function valueOf(key: string): unknown {
    if (key in overrides.value) return overrides.value[key]
    const p = configPresets.value[preset.value]
    if (p && key in p) return p[key]
    return fields.value.find((f) => f.key === key)?.default
  }

  async function load(): Promise<void> {
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

  async function estimateFor(input: RunInput): Promise<void> {
    try {
      estimate.value = await api.estimateRun(input)
      estimateError.value = ''
    } catch (err) {
      estimate.value = null
      estimateError.value = errorText(err)
    }
  }

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
    error,
    estimateError,
    valueOf,
    load,
    addBackboneFolder,
    estimateFor,
  }
})
