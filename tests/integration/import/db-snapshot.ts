// A digest of every row of every table, to assert that a failed import left the database exactly as before.
import { createHash } from 'node:crypto'
import type { Store } from '../../../main/store/db'

export function dbSnapshot(store: Store): string {
  const h = createHash('sha256')
  const tables = store.db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[]
  for (const t of tables) {
    h.update(`#${t}\n`)
    const rows = (store.db.prepare(`SELECT * FROM "${t}"`).raw().all() as unknown[][]).map((row) =>
      JSON.stringify(row, (_, v) => (Buffer.isBuffer(v) ? v.toString('hex') : v)),
    )
    for (const r of rows.sort()) h.update(r + '\n')
  }
  return h.digest('hex')
}
