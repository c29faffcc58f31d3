// App-wide state: backend info (badge), current view, theme (persisted), shortcut help overlay.
import { defineStore } from 'pinia'
import { ref, watch } from 'vue'
import type { AppInfo } from '../../../preload/api'
import { api, errorText } from '../api'

export const VIEWS = ['datasets', 'prompts', 'train', 'inspect', 'results'] as const
export type ViewName = (typeof VIEWS)[number]
export type Theme = 'light' | 'dark'

const THEME_KEY = 'cllm4rec.theme'

function initialTheme(): Theme {
  const saved = localStorage.getItem(THEME_KEY)
  if (saved === 'light' || saved === 'dark') return saved
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'
}

export const useAppStore = defineStore('app', () => {
  const info = ref<AppInfo | null>(null)
  const infoError = ref('')
  const view = ref<ViewName>('datasets')
  const theme = ref<Theme>(initialTheme())
  const showShortcuts = ref(false)

  watch(
    theme,
    (t) => {
      document.documentElement.dataset.theme = t
      localStorage.setItem(THEME_KEY, t)
    },
    { immediate: true },
  )

  async function loadInfo(): Promise<void> {
    try {
      info.value = await api.appInfo()
      infoError.value = ''
    } catch (err) {
      infoError.value = errorText(err)
    }
  }

  function toggleTheme(): void {
    theme.value = theme.value === 'dark' ? 'light' : 'dark'
  }

  return { info, infoError, view, theme, showShortcuts, loadInfo, toggleTheme }
})
