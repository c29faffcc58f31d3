// Differences between two runs' settings: resolved config (nested objects flattened to dotted keys,
// e.g. scratch.layers), each document kind's prompt phrase, seed, backbone and data.
import type { RunDetail } from '../../../preload/api'

export interface DiffRow {
  key: string
  a: string
  b: string
}

function show(v: unknown): string {
  if (v === undefined) return '–'
  return typeof v === 'string' ? v : JSON.stringify(v)
}

export function flatten(obj: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k
    if (v !== null && typeof v === 'object' && !Array.isArray(v))
      Object.assign(out, flatten(v as Record<string, unknown>, key))
    else out[key] = v
  }
  return out
}

type DiffInput = Pick<RunDetail, 'config' | 'templates' | 'seed' | 'backbone' | 'datasetName' | 'dataHash'>

export function diffRuns(a: DiffInput, b: DiffInput): DiffRow[] {
  const out: DiffRow[] = []
  // Prompts are compared per kind below, so a 'prompts' object inside the config is not repeated.
  const strip = (c: Record<string, unknown>): Record<string, unknown> =>
    flatten(Object.fromEntries(Object.entries(c).filter(([k]) => k !== 'prompts' && k !== 'templates')))
  const [ca, cb] = [strip(a.config), strip(b.config)]
  for (const key of [...new Set([...Object.keys(ca), ...Object.keys(cb)])].sort()) {
    if (show(ca[key]) !== show(cb[key])) out.push({ key, a: show(ca[key]), b: show(cb[key]) })
  }
  const kinds = [
    ...new Set([...Object.keys(a.templates), ...Object.keys(b.templates)]),
  ] as (keyof DiffInput['templates'])[]
  for (const kind of kinds) {
    if (a.templates[kind] !== b.templates[kind])
      out.push({ key: `prompt.${kind}`, a: show(a.templates[kind]), b: show(b.templates[kind]) })
  }
  for (const key of ['seed', 'backbone', 'datasetName', 'dataHash'] as const) {
    if (a[key] !== b[key]) out.push({ key, a: show(a[key]), b: show(b[key]) })
  }
  return out
}

export interface TableRow {
  key: string
  values: string[]
}

/** Every setting as a flat key -> value map (config keys, prompt.<kind>, seed, backbone, data). */
export function settingsOf(d: DiffInput): Record<string, string> {
  const out: Record<string, string> = {}
  const c = flatten(
    Object.fromEntries(Object.entries(d.config).filter(([k]) => k !== 'prompts' && k !== 'templates')),
  )
  for (const [k, v] of Object.entries(c)) out[k] = show(v)
  for (const [k, v] of Object.entries(d.templates)) out[`prompt.${k}`] = show(v)
  for (const key of ['seed', 'backbone', 'datasetName', 'dataHash'] as const) out[key] = show(d[key])
  return out
}

/**
 * The hyperparameter table of any number of runs: one row per setting that differs between them (all
 * settings when `all`), one column per run, in the order given.
 */
export function hyperparameterTable(runs: DiffInput[], all = false): TableRow[] {
  const maps = runs.map(settingsOf)
  const keys = [...new Set(maps.flatMap((m) => Object.keys(m)))].sort()
  const rows: TableRow[] = []
  for (const key of keys) {
    const values = maps.map((m) => m[key] ?? '–')
    if (all || new Set(values).size > 1) rows.push({ key, values })
  }
  return rows
}
