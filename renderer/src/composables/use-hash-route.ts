// Keeps location.hash and the app state in step: the view, the runs selected in Results with the
// dataset / sweep filters, and the run shown in Train. Read once at start, written on every change.
import { watch } from 'vue'
import { VIEWS, useAppStore, type ViewName } from '../stores/app'
import { useResultsStore } from '../stores/results'
import { useRunsStore } from '../stores/runs'
import { formatHash, idList, parseHash } from '../lib/hash-route'

export function useHashRoute(): void {
  const app = useAppStore()
  const res = useResultsStore()
  const runs = useRunsStore()

  const start = parseHash(location.hash)
  if ((VIEWS as readonly string[]).includes(start.view)) app.view = start.view as ViewName
  const p = start.params
  if (start.view === 'results') {
    res.selected = idList(p.runs)
    res.datasetId = idList(p.dataset)[0] ?? null
    res.sweep = p.sweep || null
  }
  if (start.view === 'train' && idList(p.run)[0]) void runs.select(idList(p.run)[0])

  watch(
    () => {
      const params: Record<string, string> =
        app.view === 'results'
          ? { runs: res.selected.join(','), dataset: String(res.datasetId ?? ''), sweep: res.sweep ?? '' }
          : app.view === 'train'
            ? { run: String(runs.selectedId ?? '') }
            : {}
      return formatHash({ view: app.view, params })
    },
    (hash) => {
      if (location.hash !== hash) history.replaceState(null, '', hash)
    },
    { immediate: true },
  )
}
