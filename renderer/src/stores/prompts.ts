// Prompts (paper §2): the hard-prompt phrase of every document kind, presets, validation and the
// live token preview for one user/item. The templates chosen here go into every new run's input.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type {
  DocumentKind,
  DocumentPreview,
  PromptPreset,
  PromptTemplates,
  TemplateCheck,
} from '../../../preload/api'
import { api, errorText } from '../api'

export const DOCUMENT_KINDS: DocumentKind[] = [
  'collaborative',
  'review',
  'itemText',
  'userText',
  'recommendation',
]

/** Placeholders each kind may use; {items} is the recommendation prompt's item list. */
export const PLACEHOLDERS: Record<DocumentKind, string[]> = {
  collaborative: ['{user}'],
  review: ['{user}', '{item}'],
  itemText: ['{item}'],
  userText: ['{user}'],
  recommendation: ['{user}', '{items}'],
}

export const usePromptsStore = defineStore('prompts', () => {
  const presets = ref<PromptPreset[]>([])
  const presetName = ref('')
  const templates = ref<PromptTemplates | null>(null)
  const checks = ref<TemplateCheck[]>([])
  const kind = ref<DocumentKind>('collaborative')
  const user = ref(0)
  const item = ref(0)
  const preview = ref<DocumentPreview | null>(null)
  const error = ref('')
  const previewError = ref('')
  let previewSeq = 0

  async function loadPresets(): Promise<void> {
    try {
      presets.value = await api.listPromptPresets()
      error.value = ''
      if (!templates.value && presets.value.length > 0) applyPreset(presets.value[0].name)
    } catch (err) {
      error.value = errorText(err)
    }
  }

  function applyPreset(name: string): void {
    const p = presets.value.find((x) => x.name === name)
    if (!p) return
    presetName.value = name
    templates.value = { ...p.templates }
  }

  async function savePreset(name: string): Promise<void> {
    if (!templates.value) return
    try {
      await api.savePromptPreset(name, templates.value)
      await loadPresets()
      presetName.value = name
    } catch (err) {
      error.value = errorText(err)
    }
  }

  async function deletePreset(name: string): Promise<void> {
    try {
      await api.deletePromptPreset(name)
      await loadPresets()
    } catch (err) {
      error.value = errorText(err)
    }
  }

  async function check(backboneId: string, datasetId?: number): Promise<void> {
    if (!templates.value || !backboneId) return
    try {
      checks.value = await api.checkTemplates(templates.value, backboneId, datasetId)
      error.value = ''
    } catch (err) {
      error.value = errorText(err)
    }
  }

  async function refreshPreview(datasetId: number | undefined, backboneId: string): Promise<void> {
    if (!templates.value || datasetId === undefined || !backboneId) return
    const seq = ++previewSeq
    try {
      const p = await api.previewDocument({
        datasetId,
        backboneId,
        templates: templates.value,
        kind: kind.value,
        user: user.value,
        item: item.value,
      })
      if (seq !== previewSeq) return
      preview.value = p
      previewError.value = ''
    } catch (err) {
      if (seq === previewSeq) previewError.value = errorText(err)
    }
  }

  /** True when the editor no longer matches the preset it started from. */
  const edited = computed(() => {
    const p = presets.value.find((x) => x.name === presetName.value)
    return !!p && !!templates.value && DOCUMENT_KINDS.some((k) => p.templates[k] !== templates.value?.[k])
  })

  function checkFor(k: DocumentKind): TemplateCheck | undefined {
    return checks.value.find((c) => c.kind === k)
  }

  return {
    presets,
    presetName,
    templates,
    checks,
    kind,
    user,
    item,
    preview,
    error,
    previewError,
    edited,
    loadPresets,
    applyPreset,
    savePreset,
    deletePreset,
    check,
    refreshPreview,
    checkFor,
  }
})
