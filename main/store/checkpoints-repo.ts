// Checkpoints: named tensors stored as BLOBs with dtype / shape, the run config and a format version,
// written in ONE transaction with a sha256 over everything; the checksum is verified on every read so
// a damaged checkpoint fails loudly instead of loading silently wrong weights.
import { createHash } from 'node:crypto'
import { nowIso, StoreError, type Store } from './db'

export const CHECKPOINT_FORMAT_VERSION = 1

export type TensorDtype = 'float32' | 'int32' | 'bool'

export interface StoredTensor {
  name: string
  dtype: TensorDtype
  shape: number[]
  /** Raw little-endian bytes (Float32Array / Int32Array / Uint8Array views are accepted). */
  data: Uint8Array | Float32Array | Int32Array
}

export interface CheckpointMeta {
  id: number
  runId: number
  stage: string
  step: number
  formatVersion: number
  config: Record<string, unknown>
  sha256: string
  bytes: number
  createdAt: string
}

export interface Checkpoint extends CheckpointMeta {
  tensors: {
    name: string
    dtype: TensorDtype
    shape: number[]
    data: Float32Array | Int32Array | Uint8Array
  }[]
}

const BYTES: Record<TensorDtype, number> = { float32: 4, int32: 4, bool: 1 }

function bytesOf(t: StoredTensor): Buffer {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)
}

function checksum(
  formatVersion: number,
  configJson: string,
  tensors: { name: string; dtype: string; shape: number[]; bytes: Uint8Array }[],
): string {
  const h = createHash('sha256')
  h.update(`v${formatVersion}\0${configJson}\0`)
  for (const t of tensors) {
    h.update(`${t.name}\0${t.dtype}\0${JSON.stringify(t.shape)}\0`)
    h.update(t.bytes)
  }
  return h.digest('hex')
}

/**
 * Writes one checkpoint in one transaction. With `keep`, the same transaction drops the run's older
 * checkpoints beyond the newest `keep`, so a long run does not fill the disk (one per epoch otherwise).
 */
export function saveCheckpoint(
  store: Store,
  c: { runId: number; stage: string; step: number; config: Record<string, unknown>; tensors: StoredTensor[] },
  opts: { keep?: number } = {},
): number {
  if (opts.keep !== undefined && (!Number.isInteger(opts.keep) || opts.keep < 1))
    throw new StoreError(`checkpoint keep must be an integer >= 1, got ${opts.keep}`)
  const configJson = JSON.stringify(c.config)
  const names = new Set<string>()
  const prepared = c.tensors.map((t) => {
    if (names.has(t.name)) throw new StoreError(`checkpoint tensor '${t.name}' appears twice`)
    names.add(t.name)
    const n = t.shape.reduce((a, b) => a * b, 1)
    const bytes = bytesOf(t)
    if (!(t.dtype in BYTES)) throw new StoreError(`checkpoint tensor '${t.name}': unknown dtype ${t.dtype}`)
    if (bytes.length !== n * BYTES[t.dtype])
      throw new StoreError(
        `checkpoint tensor '${t.name}': ${bytes.length} bytes do not fit shape [${t.shape}] of ${t.dtype}`,
      )
    return { name: t.name, dtype: t.dtype, shape: t.shape, bytes }
  })
  const sha = checksum(CHECKPOINT_FORMAT_VERSION, configJson, prepared)
  const total = prepared.reduce((a, t) => a + t.bytes.length, 0)
  const db = store.db
  return store.write(`saving a checkpoint of run ${c.runId}`, () => {
    const id = Number(
      db
        .prepare(
          `INSERT INTO checkpoints (run_id, stage, step, format_version, config_json, sha256, n_bytes, created_at)
             VALUES (?,?,?,?,?,?,?,?)`,
        )
        .run(c.runId, c.stage, c.step, CHECKPOINT_FORMAT_VERSION, configJson, sha, total, nowIso())
        .lastInsertRowid,
    )
    const ins = db.prepare(
      'INSERT INTO checkpoint_tensors (checkpoint_id, ord, name, dtype, shape_json, data) VALUES (?,?,?,?,?,?)',
    )
    prepared.forEach((t, i) => ins.run(id, i, t.name, t.dtype, JSON.stringify(t.shape), t.bytes))
    if (opts.keep !== undefined)
      db.prepare(
        `DELETE FROM checkpoints WHERE run_id = ? AND id NOT IN
             (SELECT id FROM checkpoints WHERE run_id = ? ORDER BY id DESC LIMIT ?)`,
      ).run(c.runId, c.runId, opts.keep)
    return id
  })
}

type Row = Record<string, unknown>

const toMeta = (r: Row): CheckpointMeta => ({
  id: r.id as number,
  runId: r.run_id as number,
  stage: r.stage as string,
  step: r.step as number,
  formatVersion: r.format_version as number,
  config: JSON.parse(r.config_json as string),
  sha256: r.sha256 as string,
  bytes: r.n_bytes as number,
  createdAt: r.created_at as string,
})

export function listCheckpoints(store: Store, runId: number): CheckpointMeta[] {
  return (store.db.prepare('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY id').all(runId) as Row[]).map(
    toMeta,
  )
}

/** The newest checkpoint of a run (optionally of one stage), or undefined. */
export function latestCheckpoint(store: Store, runId: number, stage?: string): CheckpointMeta | undefined {
  const r = (
    stage
      ? store.db
          .prepare('SELECT * FROM checkpoints WHERE run_id = ? AND stage = ? ORDER BY id DESC LIMIT 1')
          .get(runId, stage)
      : store.db.prepare('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY id DESC LIMIT 1').get(runId)
  ) as Row | undefined
  return r ? toMeta(r) : undefined
}

export function loadCheckpoint(store: Store, id: number): Checkpoint {
  const r = store.db.prepare('SELECT * FROM checkpoints WHERE id = ?').get(id) as Row | undefined
  if (!r) throw new StoreError(`no checkpoint with id ${id}`)
  const meta = toMeta(r)
  if (meta.formatVersion > CHECKPOINT_FORMAT_VERSION)
    throw new StoreError(`checkpoint ${id} has format version ${meta.formatVersion}, newer than supported`)
  const rows = store.db
    .prepare(
      'SELECT name, dtype, shape_json, data FROM checkpoint_tensors WHERE checkpoint_id = ? ORDER BY ord',
    )
    .all(id) as { name: string; dtype: TensorDtype; shape_json: string; data: Buffer }[]
  const tensors = rows.map((t) => ({
    name: t.name,
    dtype: t.dtype,
    shape: JSON.parse(t.shape_json) as number[],
    bytes: t.data,
  }))
  const sha = checksum(meta.formatVersion, r.config_json as string, tensors)
  if (sha !== meta.sha256)
    throw new StoreError(
      `checkpoint ${id} (run ${meta.runId}, ${meta.stage} step ${meta.step}) failed its checksum: damaged`,
    )
  return {
    ...meta,
    tensors: tensors.map((t) => {
      const ab = new Uint8Array(t.bytes).buffer // aligned copy
      const data =
        t.dtype === 'float32'
          ? new Float32Array(ab)
          : t.dtype === 'int32'
            ? new Int32Array(ab)
            : new Uint8Array(ab)
      return { name: t.name, dtype: t.dtype, shape: t.shape, data }
    }),
  }
}

export function deleteCheckpoint(store: Store, id: number): void {
  const del = () => store.db.prepare('DELETE FROM checkpoints WHERE id = ?').run(id).changes
  if (store.write(`deleting checkpoint ${id}`, del) === 0) throw new StoreError(`no checkpoint with id ${id}`)
}
