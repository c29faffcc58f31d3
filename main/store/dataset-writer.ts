// Writing a dataset without holding the database's write lock for the whole import: rows go in
// bounded transactions under a hidden staging row, and one short final transaction gives it its
// name and file hash (the moment it becomes visible). A failure or cancel deletes the staged rows; a
// crash leaves them for the next openStore to remove. Other writers (a training run's metrics) thus
// wait at most one chunk, never the whole 12M-row write.
import { randomUUID } from 'node:crypto'
import type Database from 'better-sqlite3'
import { processAlive, withWriterNote, writersWaiting } from './busy'
import {
  BatchInserter,
  DuplicateImportError,
  findByFileHash,
  isDatasetTrashed,
  type NewDataset,
} from './datasets-repo'
import { nowIso, type Store } from './db'
import { StoreError } from './store-error'

/**
 * Names of staged rows: a control-character prefix, the owner's pid and a UUID. (Not NUL: SQLite's
 * text functions stop at a NUL byte.) Their file_hash carries the same prefix, which no import's has.
 */
export const STAGING_PREFIX = '\u0001staging:'
const STAGED_NAME = /^\u0001staging:(\d+):[0-9a-f-]{36}$/

/** Rows per write transaction (tens of milliseconds each). */
const CHUNK_ROWS = 20_000
/** Pause after a chunk when another writer is waiting, long enough for its busy handler to poll. */
const YIELD_MS = 120

const sleepSync = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)

/** `base`, or the first free `base-N`; call inside the write transaction. */
function freeName(db: Database.Database, base: string): string {
  const taken = db.prepare('SELECT 1 FROM datasets WHERE name = ?').pluck()
  if (!taken.get(base)) return base
  for (let i = 2; ; i++) if (!taken.get(`${base}-${i}`)) return `${base}-${i}`
}

type Hooks = { onRows?: (rows: number, total: number) => void; signal?: AbortSignal }

/** Runs each chunk as its own write transaction, pausing after it while another writer waits. */
class Chunker {
  constructor(
    private readonly store: Store,
    private readonly what: string,
  ) {}

  run(fn: () => void): void {
    this.store.write(this.what, fn)
    if (writersWaiting(this.store.file)) sleepSync(YIELD_MS)
  }
}

/**
 * Stores a dataset; it becomes visible (listDatasets, its name, its file hash) only in the final
 * transaction, so either all of it is there or none.
 */
export function insertDataset(store: Store, d: NewDataset, hooks: Hooks = {}): number {
  const ds = d.dataset
  const what = `importing dataset '${ds.name}' from ${d.source}`
  return withWriterNote(store.file, what, () => {
    const chunks = new Chunker(store, what)
    let id = -1
    try {
      chunks.run(() => {
        // Same file with other settings (another data hash) is a new dataset.
        const dup = findByFileHash(store, d.fileHash, ds.hash)
        if (dup) throw new DuplicateImportError(dup, d.source)
        if (!d.autoName) assertNameFree(store, ds.name)
        id = insertStagingRow(store, d)
      })
      writeRows(store, chunks, id, d, hooks)
      store.write(what, () => commitStaged(store, id, d))
      return id
    } catch (err) {
      if (id >= 0) deleteStaged(store, id)
      throw err
    }
  })
}

function assertNameFree(store: Store, name: string): void {
  const taken = store.db.prepare('SELECT id FROM datasets WHERE name = ?').get(name) as
    | { id: number }
    | undefined
  if (taken)
    throw new StoreError(
      `a dataset named '${name}' already exists (id ${taken.id}${isDatasetTrashed(store, taken.id) ? ', in the trash' : ''}); choose another --name`,
    )
}

function insertStagingRow(store: Store, d: NewDataset): number {
  const ds = d.dataset
  const info = store.db
    .prepare(
      `INSERT INTO datasets (name, source, format, file_hash, data_hash, split_protocol, options_json, stats_json,
         synthetic, n_users, n_items, n_interactions, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
    )
    .run(
      stagedName(d.stagingId ?? randomUUID()),
      d.source,
      d.format,
      `${STAGING_PREFIX}${d.fileHash}`,
      ds.hash,
      ds.splitProtocol,
      JSON.stringify(d.options ?? {}),
      JSON.stringify(d.stats),
      ds.synthetic ? 1 : 0,
      ds.userIds.length,
      ds.itemIds.length,
      d.stats.interactions.total,
      nowIso(),
    )
  return Number(info.lastInsertRowid)
}

/** The final, short transaction: the duplicate and name checks again, then the real name and hash. */
function commitStaged(store: Store, id: number, d: NewDataset): void {
  const dup = findByFileHash(store, d.fileHash, d.dataset.hash)
  if (dup) throw new DuplicateImportError(dup, d.source)
  const name = d.autoName ? freeName(store.db, d.dataset.name) : d.dataset.name
  if (!d.autoName) assertNameFree(store, name)
  store.db.prepare('UPDATE datasets SET name = ?, file_hash = ? WHERE id = ?').run(name, d.fileHash, id)
}

/** Users, items, interactions (in primary-key order) and texts, CHUNK_ROWS per transaction. */
function writeRows(store: Store, chunks: Chunker, id: number, d: NewDataset, hooks: Hooks): void {
  const db = store.db
  const ds = d.dataset
  const total = d.stats.interactions.total
  const idRows = (table: 'users' | 'items', ids: string[]) => {
    for (let a = 0; a < ids.length; a += CHUNK_ROWS)
      chunks.run(() => {
        const ins = new BatchInserter(db, `INSERT INTO ${table} (dataset_id, idx, original_id)`, 3)
        for (let i = a; i < Math.min(ids.length, a + CHUNK_ROWS); i++) ins.push(id, i, ids[i])
        ins.flush()
      })
  }
  idRows('users', ds.userIds)
  idRows('items', ds.itemIds)
  let n = 0
  let u = 0
  while (u < ds.userIds.length) {
    if (hooks.signal?.aborted) throw new StoreError('import cancelled')
    chunks.run(() => {
      const inter = new BatchInserter(
        db,
        'INSERT INTO interactions (dataset_id, user_idx, item_idx, split, rating, ts)',
        6,
      )
      const start = n
      for (; u < ds.userIds.length && n - start < CHUNK_ROWS; u++) n += userRows(inter, id, u, d)
      inter.flush()
    })
    hooks.onRows?.(n, total)
  }
  const texts: [string, number | null, number | null, string][] = []
  for (const r of ds.reviews) texts.push(['review', r.user, r.item, r.text])
  ds.itemTexts.forEach((t, i) => t !== null && texts.push(['item', null, i, t]))
  ds.userTexts.forEach((t, i) => t !== null && texts.push(['user', i, null, t]))
  for (let a = 0; a < texts.length; a += CHUNK_ROWS)
    chunks.run(() => {
      const ins = new BatchInserter(db, 'INSERT INTO texts (dataset_id, kind, user_idx, item_idx, text)', 5)
      for (const t of texts.slice(a, a + CHUNK_ROWS)) ins.push(id, ...t)
      ins.flush()
    })
  hooks.onRows?.(n, total)
}

/** One user's interactions: the three sorted split lists merged into item order. Returns the count. */
function userRows(inter: BatchInserter, id: number, u: number, d: NewDataset): number {
  const ds = d.dataset
  const v = d.values
  let k = v ? v.userPtr[u] : 0
  const ls = [ds.train[u], ds.val[u], ds.test[u]]
  const pos = [0, 0, 0]
  let n = 0
  for (;;) {
    let s = -1
    for (let j = 0; j < 3; j++) if (pos[j] < ls[j].length && (s < 0 || ls[j][pos[j]] < ls[s][pos[s]])) s = j
    if (s < 0) return n
    const it = ls[s][pos[s]++]
    if (v && v.items[k] !== it)
      throw new StoreError('internal: interaction values out of step with the split')
    const rating = v ? v.ratings[k] : NaN
    const ts = v ? v.timestamps[k] : NaN
    k++
    inter.push(id, u, it, s, Number.isNaN(rating) ? null : rating, Number.isNaN(ts) ? null : ts)
    n++
  }
}

/** Deletes a staged dataset in bounded transactions (one DELETE of millions of rows would hold the lock). */
export function deleteStaged(store: Store, id: number): void {
  const db = store.db
  const what = `removing the staged rows of an unfinished import (dataset row ${id})`
  const step = (sql: string) => {
    const stmt = db.prepare(sql)
    while (store.write(what, () => stmt.run({ id, n: CHUNK_ROWS }).changes) > 0) {
      if (writersWaiting(store.file)) sleepSync(YIELD_MS)
    }
  }
  step(
    `DELETE FROM interactions WHERE (dataset_id, user_idx, item_idx) IN
       (SELECT dataset_id, user_idx, item_idx FROM interactions WHERE dataset_id = @id LIMIT @n)`,
  )
  step('DELETE FROM texts WHERE id IN (SELECT id FROM texts WHERE dataset_id = @id LIMIT @n)')
  step(
    'DELETE FROM users WHERE (dataset_id, idx) IN (SELECT dataset_id, idx FROM users WHERE dataset_id = @id LIMIT @n)',
  )
  step(
    'DELETE FROM items WHERE (dataset_id, idx) IN (SELECT dataset_id, idx FROM items WHERE dataset_id = @id LIMIT @n)',
  )
  store.write(what, () => db.prepare('DELETE FROM datasets WHERE id = ?').run(id))
}

const stagedName = (stagingId: string) => `${STAGING_PREFIX}${process.pid}:${stagingId}`

/**
 * Removes what an import of this process left staged under `stagingId` (its worker thread died
 * mid-write, so its own cleanup never ran). Returns whether there was anything.
 */
export function removeStaged(store: Store, stagingId: string): boolean {
  const row = store.db.prepare('SELECT id FROM datasets WHERE name = ?').get(stagedName(stagingId)) as
    | { id: number }
    | undefined
  if (row) deleteStaged(store, row.id)
  return row !== undefined
}

/** Staged rows whose importing process is gone (killed mid-import): removed when a store opens. */
export function removeAbandonedStaging(store: Store): number {
  const rows = store.db
    .prepare('SELECT id, name FROM datasets WHERE substr(name, 1, ?) = ? AND substr(file_hash, 1, ?) = ?')
    .all(STAGING_PREFIX.length, STAGING_PREFIX, STAGING_PREFIX.length, STAGING_PREFIX) as {
    id: number
    name: string
  }[]
  let removed = 0
  for (const r of rows) {
    const m = STAGED_NAME.exec(r.name)
    if (!m) continue
    const pid = Number(m[1])
    if (pid === process.pid || processAlive(pid)) continue
    deleteStaged(store, r.id)
    removed++
  }
  return removed
}
