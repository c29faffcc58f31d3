// Training runs with everything needed to reproduce them (resolved config, seed, data hash, backend,
// app version; DESIGN rules 4 and 7), their metric series and their evaluations (runs and baselines).
import { nowIso, StoreError, type Store } from './db'

export type RunStatus = 'queued' | 'running' | 'cancelled' | 'failed' | 'done' | 'interrupted'

export interface RunRow {
  id: number
  name: string
  datasetId: number
  config: Record<string, unknown>
  seed: number
  dataHash: string
  backend: string
  appVersion: string
  status: RunStatus
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
  error: string | null
  /** The sweep this run belongs to (runs created together by `sweep`), else null. */
  sweep: string | null
  tags: string[]
  notes: string
}

export interface NewRun {
  name: string
  datasetId: number
  config: Record<string, unknown>
  seed: number
  dataHash: string
  backend: string
  appVersion: string
  status?: RunStatus
  sweep?: string
}

type Row = Record<string, unknown>

const toRun = (r: Row): RunRow => ({
  id: r.id as number,
  name: r.name as string,
  datasetId: r.dataset_id as number,
  config: JSON.parse(r.config_json as string),
  seed: r.seed as number,
  dataHash: r.data_hash as string,
  backend: r.backend as string,
  appVersion: r.app_version as string,
  status: r.status as RunStatus,
  createdAt: r.created_at as string,
  startedAt: (r.started_at as string | null) ?? null,
  finishedAt: (r.finished_at as string | null) ?? null,
  error: (r.error as string | null) ?? null,
  sweep: (r.sweep as string | null) ?? null,
  tags: JSON.parse((r.tags_json as string | undefined) ?? '[]') as string[],
  notes: (r.notes as string | undefined) ?? '',
})

export function createRun(store: Store, run: NewRun): number {
  const ds = store.db.prepare('SELECT data_hash FROM datasets WHERE id = ?').get(run.datasetId) as
    | { data_hash: string }
    | undefined
  if (!ds) throw new StoreError(`no dataset with id ${run.datasetId}`)
  if (ds.data_hash !== run.dataHash)
    throw new StoreError(`run data hash ${run.dataHash.slice(0, 12)} does not match dataset ${run.datasetId}`)
  const ins = store.db.prepare(
    `INSERT INTO runs (name, dataset_id, config_json, seed, data_hash, backend, app_version, status, created_at, sweep)
       VALUES (?,?,?,?,?,?,?,?,?,?)`,
  )
  const info = store.write(`creating run '${run.name}'`, () =>
    ins.run(
      run.name,
      run.datasetId,
      JSON.stringify(run.config),
      run.seed,
      run.dataHash,
      run.backend,
      run.appVersion,
      run.status ?? 'queued',
      nowIso(),
      run.sweep ?? null,
    ),
  )
  return Number(info.lastInsertRowid)
}

export function getRun(store: Store, id: number): RunRow {
  const r = store.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as Row | undefined
  if (!r) throw new StoreError(`no run with id ${id}`)
  return toRun(r)
}

/** Runs in the store, oldest first; runs in the trash (or of a trashed dataset) only when asked for. */
export function listRuns(store: Store, datasetId?: number, opts: { trashed?: boolean } = {}): RunRow[] {
  const where: string[] = []
  const args: unknown[] = []
  if (!opts.trashed)
    where.push('deleted_at IS NULL AND dataset_id IN (SELECT id FROM datasets WHERE deleted_at IS NULL)')
  if (datasetId !== undefined) {
    where.push('dataset_id = ?')
    args.push(datasetId)
  }
  const sql = `SELECT * FROM runs${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY id`
  return (store.db.prepare(sql).all(...args) as Row[]).map(toRun)
}

export interface RunMetaPatch {
  name?: string
  tags?: string[]
  notes?: string
}

/** Rename, tag or annotate a run (the experiment tracker's fields; nothing that affects results). */
export function updateRunMeta(store: Store, id: number, patch: RunMetaPatch): RunRow {
  const run = getRun(store, id)
  if (patch.name !== undefined && patch.name.trim() === '') throw new StoreError('a run name cannot be empty')
  const tags = patch.tags ? [...new Set(patch.tags.map((t) => t.trim()).filter(Boolean))] : run.tags
  const up = store.db.prepare('UPDATE runs SET name = ?, tags_json = ?, notes = ? WHERE id = ?')
  store.write(`updating run ${id}`, () =>
    up.run(patch.name?.trim() ?? run.name, JSON.stringify(tags), patch.notes ?? run.notes, id),
  )
  return getRun(store, id)
}

/** Moves a run to the trash: one UPDATE, so it is either wholly there or wholly not. */
export function trashRun(store: Store, id: number): void {
  const up = store.db.prepare('UPDATE runs SET deleted_at = ? WHERE id = ?')
  if (store.write(`moving run ${id} to the trash`, () => up.run(nowIso(), id)).changes === 0)
    throw new StoreError(`no run with id ${id}`)
}

export function restoreRun(store: Store, id: number): void {
  const up = store.db.prepare('UPDATE runs SET deleted_at = NULL WHERE id = ? AND deleted_at IS NOT NULL')
  const res = store.write(`restoring run ${id}`, () => up.run(id))
  if (res.changes === 0) throw new StoreError(`no run with id ${id} in the trash`)
}

export function isRunTrashed(store: Store, id: number): boolean {
  const r = store.db.prepare('SELECT deleted_at FROM runs WHERE id = ?').get(id) as
    | { deleted_at: string | null }
    | undefined
  if (!r) throw new StoreError(`no run with id ${id}`)
  return r.deleted_at !== null
}

/** Status transitions stamp started_at / finished_at; an error message is kept for failed runs. */
export function setRunStatus(store: Store, id: number, status: RunStatus, error?: string): void {
  const now = nowIso()
  const up = store.db.prepare(
    `UPDATE runs SET status = ?, error = ?,
         started_at = CASE WHEN ? = 'running' AND started_at IS NULL THEN ? ELSE started_at END,
         finished_at = CASE WHEN ? IN ('done', 'failed', 'cancelled', 'interrupted') THEN ? ELSE finished_at END
       WHERE id = ?`,
  )
  const res = store.write(`setting run ${id} to '${status}'`, () =>
    up.run(status, error ?? null, status, now, status, now, id),
  )
  if (res.changes === 0) throw new StoreError(`no run with id ${id}`)
}

/** On start-up: runs left 'running' by a crash become 'interrupted'. Returns how many. */
export function markInterruptedRuns(store: Store): number {
  const up = store.db.prepare(
    "UPDATE runs SET status = 'interrupted', finished_at = ? WHERE status IN ('running', 'queued')",
  )
  return store.write('marking interrupted runs', () => up.run(nowIso()).changes)
}

export function deleteRun(store: Store, id: number): void {
  const del = store.db.prepare('DELETE FROM runs WHERE id = ?')
  if (store.write(`deleting run ${id}`, () => del.run(id).changes) === 0)
    throw new StoreError(`no run with id ${id}`)
}

export interface MetricPoint {
  stage: string
  step: number
  epoch: number
  name: string
  value: number
  /** When it was logged (Unix ms); absent for points stored before schema v2. */
  atMs?: number
}

export function addMetrics(store: Store, runId: number, points: MetricPoint[]): void {
  const ins = store.db.prepare(
    'INSERT INTO metric_series (run_id, stage, step, epoch, name, value, at_ms) VALUES (?,?,?,?,?,?,?)',
  )
  store.write(`saving metrics of run ${runId}`, () => {
    for (const p of points) {
      if (!Number.isFinite(p.value)) throw new StoreError(`metric ${p.name} at step ${p.step} is not finite`)
      ins.run(runId, p.stage, p.step, p.epoch, p.name, p.value, p.atMs ?? null)
    }
  })
}

export function getMetricSeries(store: Store, runId: number, name?: string): MetricPoint[] {
  const sql = `SELECT stage, step, epoch, name, value, at_ms FROM metric_series WHERE run_id = ?${name ? ' AND name = ?' : ''} ORDER BY id`
  const rows = (name ? store.db.prepare(sql).all(runId, name) : store.db.prepare(sql).all(runId)) as (Omit<
    MetricPoint,
    'atMs'
  > & { at_ms: number | null })[]
  return rows.map(({ at_ms, ...p }) => (at_ms === null ? p : { ...p, atMs: at_ms }))
}

export interface Evaluation {
  runId?: number
  baseline?: string
  datasetId: number
  split: 'val' | 'test'
  protocol: string
  metric: string
  value: number
}

export function addEvaluations(store: Store, evals: Evaluation[]): void {
  const ins = store.db.prepare(
    `INSERT INTO evaluations (run_id, dataset_id, baseline, split, protocol, metric, value, created_at)
     VALUES (?,?,?,?,?,?,?,?)`,
  )
  const now = nowIso()
  store.write('saving evaluations', () => {
    for (const e of evals) {
      if ((e.runId === undefined) === (e.baseline === undefined))
        throw new StoreError('an evaluation belongs to exactly one of a run or a baseline')
      ins.run(e.runId ?? null, e.datasetId, e.baseline ?? null, e.split, e.protocol, e.metric, e.value, now)
    }
  })
}

export function listEvaluations(
  store: Store,
  filter: { runId?: number; datasetId?: number; baseline?: string } = {},
): (Evaluation & { createdAt: string })[] {
  const where: string[] = []
  const args: unknown[] = []
  if (filter.runId !== undefined) {
    where.push('run_id = ?')
    args.push(filter.runId)
  }
  if (filter.datasetId !== undefined) {
    where.push('dataset_id = ?')
    args.push(filter.datasetId)
  }
  if (filter.baseline !== undefined) {
    where.push('baseline = ?')
    args.push(filter.baseline)
  }
  const rows = store.db
    .prepare(
      `SELECT run_id, baseline, dataset_id, split, protocol, metric, value, created_at FROM evaluations
       ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id`,
    )
    .all(...args) as Row[]
  return rows.map((r) => ({
    ...(r.run_id !== null ? { runId: r.run_id as number } : {}),
    ...(r.baseline !== null ? { baseline: r.baseline as string } : {}),
    datasetId: r.dataset_id as number,
    split: r.split as 'val' | 'test',
    protocol: r.protocol as string,
    metric: r.metric as string,
    value: r.value as number,
    createdAt: r.created_at as string,
  }))
}
