// Grouping, filtering and sorting of result rows: one group per dataset and protocol, so no ranking
// ever mixes two datasets or two splits (a split description can be the same on two datasets).
import type { ResultRow } from '../../../preload/api'

export type SortKey =
  | 'name'
  | 'model'
  | 'recall20'
  | 'recall40'
  | 'ndcg100'
  | 'valRecall20'
  | 'lastValRecall20'
  | 'seed'
  | 'durationSec'

export interface ResultFilter {
  datasetId: number | null
  sweep: string | null
  search: string
  sortKey: SortKey
  sortDesc: boolean
}

export interface ResultGroup {
  key: string
  datasetId: number
  datasetName: string
  protocol: string
  rows: ResultRow[]
}

function sortValue(r: ResultRow, key: SortKey): number | string {
  switch (key) {
    case 'name':
      return (r.runName ?? r.model).toLowerCase()
    case 'model':
      return r.model.toLowerCase()
    case 'valRecall20':
      return r.val?.recall20 ?? NaN
    case 'lastValRecall20':
      return r.lastVal?.recall20 ?? NaN
    case 'seed':
      return r.seed ?? NaN
    case 'durationSec':
      return r.durationSec
    default:
      return r.test[key]
  }
}

/** Does the row match every word of the search (name, model, tags, sweep, backbone, id)? */
export function matchesSearch(r: ResultRow, search: string): boolean {
  const hay = [r.runName, r.model, r.backbone, r.sweep, ...(r.tags ?? []), r.runId && `#${r.runId}`]
    .filter(Boolean)
    .join(' ')
    .toLowerCase()
  return search
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((w) => hay.includes(w))
}

export function groupResults(rows: ResultRow[], f: ResultFilter): ResultGroup[] {
  const groups = new Map<string, ResultGroup>()
  for (const r of rows) {
    if (f.datasetId !== null && r.datasetId !== f.datasetId) continue
    // A sweep filter keeps that sweep's runs and the baselines they are compared with.
    if (f.sweep !== null && r.kind === 'run' && r.sweep !== f.sweep) continue
    if (r.kind === 'run' && !matchesSearch(r, f.search)) continue
    const key = `${r.datasetId}|${r.protocol}`
    const g = groups.get(key) ?? {
      key,
      datasetId: r.datasetId,
      datasetName: r.datasetName,
      protocol: r.protocol,
      rows: [],
    }
    g.rows.push(r)
    groups.set(key, g)
  }
  const dir = f.sortDesc ? -1 : 1
  for (const g of groups.values()) {
    g.rows.sort((a, b) => {
      const x = sortValue(a, f.sortKey)
      const y = sortValue(b, f.sortKey)
      // Missing values sort last whatever the direction.
      const xn = typeof x === 'number' && Number.isNaN(x)
      const yn = typeof y === 'number' && Number.isNaN(y)
      if (xn || yn) return xn === yn ? 0 : xn ? 1 : -1
      return x < y ? -dir : x > y ? dir : 0
    })
  }
  return [...groups.values()].sort(
    (a, b) => a.datasetName.localeCompare(b.datasetName) || a.protocol.localeCompare(b.protocol),
  )
}
