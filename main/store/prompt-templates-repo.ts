// User-edited hard-prompt templates (one row per preset name and document kind).
import { nowIso, type Store } from './db'

export interface PromptTemplateRow {
  name: string
  kind: string
  template: string
  builtin: boolean
  updatedAt: string
}

export function savePromptTemplates(
  store: Store,
  name: string,
  templates: Record<string, string>,
  builtin = false,
): void {
  const now = nowIso()
  const up = store.db.prepare(
    `INSERT INTO prompt_templates (name, kind, template, builtin, created_at, updated_at) VALUES (?,?,?,?,?,?)
     ON CONFLICT (name, kind) DO UPDATE SET template = excluded.template, updated_at = excluded.updated_at`,
  )
  store.write(`saving prompt preset '${name}'`, () => {
    for (const [kind, t] of Object.entries(templates)) up.run(name, kind, t, builtin ? 1 : 0, now, now)
  })
}

export function listPromptTemplates(store: Store): PromptTemplateRow[] {
  return (
    store.db
      .prepare('SELECT name, kind, template, builtin, updated_at FROM prompt_templates ORDER BY name, kind')
      .all() as { name: string; kind: string; template: string; builtin: number; updated_at: string }[]
  ).map((r) => ({
    name: r.name,
    kind: r.kind,
    template: r.template,
    builtin: r.builtin === 1,
    updatedAt: r.updated_at,
  }))
}

/** Templates of one preset as kind -> template. */
export function getPromptTemplates(store: Store, name: string): Record<string, string> {
  const rows = store.db.prepare('SELECT kind, template FROM prompt_templates WHERE name = ?').all(name) as {
    kind: string
    template: string
  }[]
  return Object.fromEntries(rows.map((r) => [r.kind, r.template]))
}

export function deletePromptTemplates(store: Store, name: string): number {
  const del = store.db.prepare('DELETE FROM prompt_templates WHERE name = ? AND builtin = 0')
  return store.write(`deleting prompt preset '${name}'`, () => del.run(name).changes)
}
