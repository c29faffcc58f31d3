// Datasets in SQLite: write a processed RecDataset in ONE transaction (batched multi-row inserts through
// cached prepared statements), rebuild it with loadDataset, list / get / delete, and look up users and
// items for the inspection views. A repeated import is recognised by the source file hash.
import type Database from 'better-sqlite3'
import type { RecDataset } from '../data/types'
import type { DatasetStats } from '../data/stats'
import { datasetHash } from '../data/dataset-hash'
import type { InteractionValues } from '../data/preprocess'
import { nowIso, type Store } from './db'
import { StoreError } from './store-error'

export interface DatasetRow {
  id: number
  name: string
  source: string
  format: string
  fileHash: string
  dataHash: string
  splitProtocol: string
  synthetic: boolean
  users: number
  items: number
  interactions: number
  density: number
  createdAt: string
  options: Record<string, unknown>
  stats: DatasetStats
}

export interface NewDataset {
  dataset: RecDataset
  stats: DatasetStats
  source: string
  format: string
  fileHash: string
  options?: Record<string, unknown>
  /** Optional ratings / timestamps of the kept interactions (from preprocess). */
  values?: InteractionValues
  /**
   * The name was not chosen by the user: where it is taken, store under `<name>-2`, `-3`, ... (picked
   * inside the write transaction, so two concurrent imports of the same file name both succeed).
   */
  autoName?: boolean
  /** A UUID naming the staged rows while they are written (see dataset-writer.ts removeStaged). */
  stagingId?: string
}

export class DuplicateImportError extends StoreError {
  constructor(
    readonly existing: { id: number; name: string },
    source: string,
  ) {
    super(
      `${source}: this file was already imported as dataset '${existing.name}' (id ${existing.id}) with the same settings; change the threshold, k-core or split to import it again`,
    )
    this.name = 'DuplicateImportError'
  }
}

type Row = Record<string, unknown>

function toRow(r: Row): DatasetRow {
  const nu = r.n_users as number
  const ni = r.n_items as number
  const nx = r.n_interactions as number
  return {
    id: r.id as number,
    name: r.name as string,
    source: r.source as string,
    format: r.format as string,
    fileHash: r.file_hash as string,
    dataHash: r.data_hash as string,
    splitProtocol: r.split_protocol as string,
    synthetic: r.synthetic === 1,
    users: nu,
    items: ni,
    interactions: nx,
    density: nu && ni ? nx / (nu * ni) : 0,
    createdAt: r.created_at as string,
    options: JSON.parse(r.options_json as string),
    stats: JSON.parse(r.stats_json as string),
  }
}

/** Inserts rows of `width` values in multi-row statements of up to `batch` rows (far fewer VM round trips). */
export class BatchInserter {
  private readonly full: Database.Statement
  private readonly cache = new Map<number, Database.Statement>()
  private buf: unknown[] = []

  constructor(
    private readonly db: Database.Database,
    private readonly head: string,
    private readonly width: number,
    private readonly batch = 256,
  ) {
    this.full = this.stmt(batch)
  }

  private stmt(rows: number): Database.Statement {
    let s = this.cache.get(rows)
    if (!s) {
      const one = `(${new Array(this.width).fill('?').join(',')})`
      s = this.db.prepare(`${this.head} VALUES ${new Array(rows).fill(one).join(',')}`)
      this.cache.set(rows, s)
    }
    return s
  }

  push(...values: unknown[]): void {
    for (const v of values) this.buf.push(v)
    if (this.buf.length === this.width * this.batch) {
      this.full.run(this.buf)
      this.buf = []
    }
  }

  flush(): void {
    if (this.buf.length) this.stmt(this.buf.length / this.width).run(this.buf)
    this.buf = []
  }
}

/**
 * The dataset already imported from this file, outside the trash. With dataHash, only one imported with
 * the same settings (another threshold, k-core or split gives another data hash, and is a new dataset).
 */
export function findByFileHash(
  store: Store,
  fileHash: string,
  dataHash?: string,
): { id: number; name: string } | undefined {
  const sql = `SELECT id, name FROM datasets WHERE file_hash = ? AND deleted_at IS NULL${dataHash ? ' AND data_hash = ?' : ''}`
  const args = dataHash ? [fileHash, dataHash] : [fileHash]
  return store.db.prepare(sql).get(...args) as { id: number; name: string } | undefined
}

export { insertDataset, removeStaged } from './dataset-writer'

/** Rows of imports still being written (dataset-writer.ts) are hidden from every lookup. */
const VISIBLE = "substr(name, 1, 9) <> (char(1) || 'staging:')"

function resolveId(store: Store, nameOrId: string | number): number {
  const r = (
    typeof nameOrId === 'number' || /^\d+$/.test(nameOrId)
      ? store.db
          .prepare(`SELECT id FROM datasets WHERE (id = ? OR name = ?) AND ${VISIBLE}`)
          .get(Number(nameOrId), String(nameOrId))
      : store.db.prepare(`SELECT id FROM datasets WHERE name = ? AND ${VISIBLE}`).get(nameOrId)
  ) as { id: number } | undefined
  if (!r) throw new StoreError(`no dataset named '${nameOrId}' in ${store.file}`)
  return r.id
}

/** Datasets outside the trash, oldest first. */
export function listDatasets(store: Store): DatasetRow[] {
  return (
    store.db
      .prepare(`SELECT * FROM datasets WHERE deleted_at IS NULL AND ${VISIBLE} ORDER BY id`)
      .all() as Row[]
  ).map(toRow)
}

export function isDatasetTrashed(store: Store, id: number): boolean {
  const r = store.db.prepare('SELECT deleted_at FROM datasets WHERE id = ?').get(id) as
    | { deleted_at: string | null }
    | undefined
  return r?.deleted_at != null
}

/** Moves a dataset (and so its runs) to the trash: one UPDATE, never half a dataset. */
export function trashDataset(store: Store, nameOrId: string | number): DatasetRow {
  const row = getDataset(store, nameOrId)
  const up = store.db.prepare('UPDATE datasets SET deleted_at = ? WHERE id = ?')
  store.write(`moving dataset ${row.id} to the trash`, () => up.run(nowIso(), row.id))
  return row
}

export function restoreDataset(store: Store, id: number): DatasetRow {
  const up = store.db.prepare('UPDATE datasets SET deleted_at = NULL WHERE id = ? AND deleted_at IS NOT NULL')
  const res = store.write(`restoring dataset ${id}`, () => up.run(id))
  if (res.changes === 0) throw new StoreError(`no dataset with id ${id} in the trash`)
  return getDataset(store, id)
}

/** Deletes for good what has been in the trash since before `before` (ISO time), in one transaction. */
export function purgeTrash(store: Store, before: string): { datasets: number; runs: number } {
  return store.write('emptying the trash', () => ({
    runs: store.db.prepare('DELETE FROM runs WHERE deleted_at IS NOT NULL AND deleted_at < ?').run(before)
      .changes,
    datasets: store.db
      .prepare('DELETE FROM datasets WHERE deleted_at IS NOT NULL AND deleted_at < ?')
      .run(before).changes,
  }))
}

export function getDataset(store: Store, nameOrId: string | number): DatasetRow {
  return toRow(store.db.prepare('SELECT * FROM datasets WHERE id = ?').get(resolveId(store, nameOrId)) as Row)
}

/** Deletes a dataset and everything hanging off it (runs too, when force is set). */
export function deleteDataset(
  store: Store,
  nameOrId: string | number,
  opts: { force?: boolean } = {},
): DatasetRow {
  const row = getDataset(store, nameOrId)
  const runs = (
    store.db.prepare('SELECT COUNT(*) AS n FROM runs WHERE dataset_id = ?').get(row.id) as { n: number }
  ).n
  if (runs > 0 && !opts.force)
    throw new StoreError(`dataset '${row.name}' has ${runs} run(s); delete them first or pass force`)
  store.write(`deleting dataset '${row.name}'`, () =>
    store.db.prepare('DELETE FROM datasets WHERE id = ?').run(row.id),
  )
  return row
}

/** Rebuilds the in-memory RecDataset (and checks it against the stored data hash). */
export function loadDataset(store: Store, nameOrId: string | number): RecDataset {
  const db = store.db
  const row = getDataset(store, nameOrId)
  const id = row.id
  const userIds = db
    .prepare('SELECT original_id FROM users WHERE dataset_id = ? ORDER BY idx')
    .pluck()
    .all(id) as string[]
  const itemIds = db
    .prepare('SELECT original_id FROM items WHERE dataset_id = ? ORDER BY idx')
    .pluck()
    .all(id) as string[]
  const train: number[][] = userIds.map(() => [])
  const val: number[][] = userIds.map(() => [])
  const test: number[][] = userIds.map(() => [])
  const lists = [train, val, test]
  // Chunked .all() over primary-key ranges: much faster than row-by-row iterate() on millions of rows,
  // while keeping the intermediate arrays small.
  const perChunk = Math.max(1, Math.floor((200_000 * userIds.length) / Math.max(1, row.interactions)))
  const inter = db
    .prepare(
      'SELECT user_idx, item_idx, split FROM interactions WHERE dataset_id = ? AND user_idx >= ? AND user_idx < ? ORDER BY user_idx, item_idx',
    )
    .raw()
  for (let lo = 0; lo < userIds.length; lo += perChunk)
    for (const [u, i, s] of inter.all(id, lo, lo + perChunk) as [number, number, number][])
      lists[s][u].push(i)
  const itemTexts: (string | null)[] = itemIds.map(() => null)
  const userTexts: (string | null)[] = userIds.map(() => null)
  const reviews: RecDataset['reviews'] = []
  const textChunk = db
    .prepare(
      'SELECT id, kind, user_idx, item_idx, text FROM texts WHERE dataset_id = ? AND id > ? ORDER BY id LIMIT 100000',
    )
    .raw()
  for (let after = 0; ; ) {
    const chunk = textChunk.all(id, after) as [number, string, number | null, number | null, string][]
    if (chunk.length === 0) break
    for (const [, kind, u, i, t] of chunk) {
      if (kind === 'review') reviews.push({ user: u!, item: i!, text: t })
      else if (kind === 'item') itemTexts[i!] = t
      else userTexts[u!] = t
    }
    after = chunk[chunk.length - 1][0]
  }
  const core = { userIds, itemIds, train, val, test }
  const hash = datasetHash(core)
  if (hash !== row.dataHash)
    throw new StoreError(
      `dataset '${row.name}': stored interactions do not match the data hash (database damaged?)`,
    )
  return {
    name: row.name,
    synthetic: row.synthetic,
    ...core,
    reviews,
    itemTexts,
    userTexts,
    splitProtocol: row.splitProtocol,
    hash,
  }
}

export interface UserRef {
  user: number
  id: string
  nTrain: number
}
export interface ItemRef {
  item: number
  id: string
  text: string | null
}

/** Users whose original id starts with / contains query, with their train counts (inspection pickers). */
export function searchUsers(store: Store, datasetId: number, query: string, limit = 50): UserRef[] {
  return store.db
    .prepare(
      `SELECT u.idx AS user, u.original_id AS id,
         (SELECT COUNT(*) FROM interactions x WHERE x.dataset_id = u.dataset_id AND x.user_idx = u.idx AND x.split = 0) AS nTrain
       FROM users u WHERE u.dataset_id = ? AND u.original_id LIKE ? ESCAPE '\\' ORDER BY u.idx LIMIT ?`,
    )
    .all(datasetId, `%${query.replace(/[\\%_]/g, '\\$&')}%`, limit) as UserRef[]
}

export function searchItems(store: Store, datasetId: number, query: string, limit = 50): ItemRef[] {
  const like = `%${query.replace(/[\\%_]/g, '\\$&')}%`
  return store.db
    .prepare(
      `SELECT i.idx AS item, i.original_id AS id, t.text AS text FROM items i
       LEFT JOIN texts t ON t.dataset_id = i.dataset_id AND t.kind = 'item' AND t.item_idx = i.idx
       WHERE i.dataset_id = ? AND (i.original_id LIKE ? ESCAPE '\\' OR t.text LIKE ? ESCAPE '\\')
       ORDER BY i.idx LIMIT ?`,
    )
    .all(datasetId, like, like, limit) as ItemRef[]
}

export function datasetRowCounts(store: Store, id: number): Record<string, number> {
  const c = (table: string) =>
    (store.db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE dataset_id = ?`).get(id) as { n: number }).n
  return { users: c('users'), items: c('items'), interactions: c('interactions'), texts: c('texts') }
}
