// Runs through the store: the run queue's persistence (RunPersistence) and the run, metric and result
// queries of the API. Part of the services adapter: every store/engine call for runs lives here.
import path from 'node:path'
import type * as A from '../../preload/api'
import { resolveConfig, type ConfigOverrides, type PresetName } from '../engine/cllm4rec/config'
import { checkExtraTextsFile } from '../engine/cllm4rec/extra-texts'
import * as store from '../store'
import type { CheckpointBlob, StartMessage } from '../worker/messages'
import type { RunPersistence } from '../worker/run-manager'
import type { TrainerResult } from '../worker/trainer'
import { nestOverrides } from './config-schema'
import type { Services } from './services'
import { ApiError } from './validate'

/** What a run row's config_json holds besides the resolved engine config. */
interface StoredRunConfig {
  trainer: string
  preset: string
  backboneId: string
  backboneDir: string
  templates: A.PromptTemplates
  resolved: Record<string, unknown>
}

const METRIC_NAMES = ['recall20', 'recall40', 'ndcg100'] as const

function storeCall<T>(fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if (err instanceof store.StoreError) {
      throw new ApiError(err.message, /^no \w+ (with id|named)/.test(err.message) ? 404 : 409)
    }
    throw err
  }
}

function blobToStored(runId: number, c: CheckpointBlob): Parameters<typeof store.saveCheckpoint>[1] {
  return {
    runId,
    stage: c.stage,
    step: c.step,
    config: { format: c.format, epoch: c.epoch, meta: c.meta },
    tensors: c.tensors.map((t) => ({
      name: t.name,
      dtype: 'float32' as const,
      shape: t.shape,
      data: t.data,
    })),
  }
}

function storedToBlob(db: store.Store, runId: number): CheckpointBlob | null {
  const meta = store.latestCheckpoint(db, runId)
  if (!meta) return null
  const ck = store.loadCheckpoint(db, meta.id)
  const cfg = ck.config as { format: string; epoch: number; meta: Record<string, unknown> }
  return {
    stage: ck.stage,
    epoch: cfg.epoch,
    step: ck.step,
    format: cfg.format,
    meta: cfg.meta,
    tensors: ck.tensors.map((t) => {
      if (!(t.data instanceof Float32Array)) throw new Error(`checkpoint tensor '${t.name}' is not float32`)
      return { name: t.name, shape: t.shape, data: t.data }
    }),
  }
}

// Worker side: one connection per worker thread, opened on first use (WAL lets it write beside main).
let workerDb: store.Store | undefined

/** Checkpoints kept per run: the newest (resume, and the final one of a finished run) and one spare. */
const CHECKPOINTS_KEPT = 2

export function saveCheckpointToDb(dbPath: string, runId: number, c: CheckpointBlob): void {
  workerDb ??= store.openStore(dbPath)
  store.saveCheckpoint(workerDb, blobToStored(runId, c), { keep: CHECKPOINTS_KEPT })
}

export function loadLatestCheckpointFromDb(dbPath: string, runId: number): CheckpointBlob | null {
  workerDb ??= store.openStore(dbPath)
  return storedToBlob(workerDb, runId)
}

/** Worker side: what inspecting a finished run needs, read with the worker's own connection. */
export function loadRunForInspection(
  dbPath: string,
  runId: number,
): { datasetId: number; config: Record<string, unknown>; final: CheckpointBlob } {
  workerDb ??= store.openStore(dbPath)
  const row = store.getRun(workerDb, runId)
  if (row.status !== 'done')
    throw new ApiError(`run ${runId} is '${row.status}': only finished runs can be inspected`, 409)
  const c = row.config as unknown as StoredRunConfig
  if (c.trainer !== 'cllm4rec')
    throw new ApiError(`run ${runId} was trained by '${c.trainer}', not CLLM4Rec`, 409)
  const final = storedToBlob(workerDb, runId)
  if (!final || final.stage !== 'done') throw new ApiError(`run ${runId} has no final checkpoint`, 409)
  return { datasetId: row.datasetId, config: c.resolved, final }
}

export interface RunServicesOptions {
  version: string
  /** Trainer for new runs: 'cllm4rec' in the app; tests may pick the fast 'bpr-mf' self-check. */
  trainer?: string
  /** Backend label stored with new runs (the worker reports the one it used at the end). */
  backendLabel?: () => string
}

export class RunServices implements RunPersistence {
  private readonly trainer: string

  constructor(
    private readonly s: Services,
    private readonly o: RunServicesOptions,
  ) {
    this.trainer = o.trainer ?? 'cllm4rec'
  }

  private get db(): store.Store {
    return this.s.db
  }

  private stored(row: store.RunRow): StoredRunConfig {
    return row.config as unknown as StoredRunConfig
  }

  /** Resolves the config exactly as the run will use it; bad keys or values are 400s naming the key. */
  resolve(input: A.RunInput): { resolved: Record<string, unknown>; backboneDir: string } {
    const backboneDir = this.s.backbones.dir(input.backboneId)
    // The self-check trainer validates its own small config in the worker.
    if (this.trainer !== 'cllm4rec') return { resolved: { ...input.overrides }, backboneDir }
    try {
      const overrides = {
        ...nestOverrides(input.overrides),
        prompts: input.templates,
        backbone: backboneDir,
        seed: input.seed,
      } as ConfigOverrides
      const resolved = resolveConfig(input.preset as PresetName, overrides)
      if (resolved.backbone === 'scratch' && resolved.scratch.extraTexts !== null)
        checkExtraTextsFile(resolved.scratch.extraTexts)
      return { resolved: structuredClone(resolved) as unknown as Record<string, unknown>, backboneDir }
    } catch (err) {
      throw new ApiError((err as Error).message)
    }
  }

  // ---- RunPersistence ----
  createRun(input: A.RunInput): number {
    const ds = storeCall(() => store.getDataset(this.db, input.datasetId))
    const { resolved, backboneDir } = this.resolve(input)
    const config: StoredRunConfig = {
      trainer: this.trainer,
      preset: input.preset,
      backboneId: input.backboneId,
      backboneDir,
      templates: input.templates,
      resolved,
    }
    const n = store.listRuns(this.db).length + 1
    return store.createRun(this.db, {
      name: input.name?.trim() || `${ds.name} #${n}`,
      datasetId: ds.id,
      config: config as unknown as Record<string, unknown>,
      seed: input.seed,
      dataHash: ds.dataHash,
      backend: this.o.backendLabel?.() ?? 'auto',
      appVersion: this.o.version,
      ...(input.sweep ? { sweep: input.sweep } : {}),
    })
  }

  jobFor(runId: number): Omit<StartMessage, 'type' | 'resume'> {
    const row = store.getRun(this.db, runId)
    const c = this.stored(row)
    return {
      runId,
      trainer: c.trainer,
      dataset: { kind: 'db', dbPath: this.s.dbPath, datasetId: row.datasetId },
      config: c.resolved,
      templates: c.templates,
      backbone: {
        id: c.backboneId,
        dir: c.backboneDir === 'scratch' ? undefined : c.backboneDir,
        // Scratch backbones are cached per dataset + settings beside the database.
        cacheDir: path.join(path.dirname(this.s.dbPath), 'backbones'),
      },
      seed: row.seed,
      checkpoints: { kind: 'db', dbPath: this.s.dbPath },
    }
  }

  statusOf(runId: number): A.RunStatus {
    return storeCall(() => store.getRun(this.db, runId)).status
  }

  setStatus(runId: number, status: A.RunStatus, error?: string): void {
    store.setRunStatus(this.db, runId, status, error)
  }

  addMetric(runId: number, point: A.MetricPoint): void {
    store.addMetrics(this.db, runId, [{ ...point, atMs: point.atMs ?? Date.now() }])
  }

  saveCheckpoint(runId: number, c: CheckpointBlob): void {
    store.saveCheckpoint(this.db, blobToStored(runId, c), { keep: CHECKPOINTS_KEPT })
  }

  latestCheckpoint(runId: number): CheckpointBlob | null {
    return storedToBlob(this.db, runId)
  }

  finishRun(runId: number, result: TrainerResult): void {
    const row = store.getRun(this.db, runId)
    const ds = store.getDataset(this.db, row.datasetId)
    const evals: store.Evaluation[] = []
    for (const [split, m] of [
      ['test', result.test],
      ['val', result.val],
    ] as const) {
      if (!m) continue
      for (const metric of METRIC_NAMES) {
        evals.push({ runId, datasetId: ds.id, split, protocol: ds.splitProtocol, metric, value: m[metric] })
      }
    }
    // One write: the results and the backend label land together (or wait together for a busy lock).
    const up = this.db.db.prepare('UPDATE runs SET backend = ? WHERE id = ?')
    this.db.write(`saving the results of run ${runId}`, () => {
      store.addEvaluations(this.db, evals)
      up.run(result.backend, runId)
    })
  }

  /** Deleting moves the run to the trash (undoable); the store purges the trash later. */
  deleteRun(runId: number): void {
    storeCall(() => store.trashRun(this.db, runId))
  }

  restoreRun(runId: number): void {
    storeCall(() => store.restoreRun(this.db, runId))
  }

  updateRun(runId: number, patch: A.RunMetaPatch): A.RunSummary {
    const row = storeCall(() => store.updateRunMeta(this.db, runId, patch))
    return this.summary(row, store.getDataset(this.db, row.datasetId).name)
  }

  unfinishedRuns(): number[] {
    return store
      .listRuns(this.db)
      .filter((r) => r.status === 'running' || r.status === 'queued')
      .map((r) => r.id)
  }

  // ---- queries ----
  private metricsOf(runId: number, split: 'val' | 'test'): A.Metrics | undefined {
    const rows = store.listEvaluations(this.db, { runId }).filter((e) => e.split === split)
    if (!rows.length) return undefined
    const m = { recall20: NaN, recall40: NaN, ndcg100: NaN }
    for (const e of rows) if (e.metric in m) m[e.metric as keyof A.Metrics] = e.value
    return m
  }

  private summary(row: store.RunRow, datasetName: string): A.RunSummary {
    const c = this.stored(row)
    const start = row.startedAt ? Date.parse(row.startedAt) : NaN
    const end = row.finishedAt ? Date.parse(row.finishedAt) : row.status === 'running' ? Date.now() : NaN
    return {
      id: row.id,
      name: row.name,
      datasetId: row.datasetId,
      datasetName,
      backbone: c.backboneId,
      backend: row.backend,
      status: row.status,
      protocol: store.getDataset(this.db, row.datasetId).splitProtocol,
      test: this.metricsOf(row.id, 'test'),
      val: this.metricsOf(row.id, 'val'),
      durationSec: Number.isFinite(start) && Number.isFinite(end) ? Math.max(0, (end - start) / 1000) : 0,
      createdAt: row.createdAt,
      seed: row.seed,
      sweep: row.sweep,
      tags: row.tags,
      notes: row.notes,
    }
  }

  /** The last validation point of each metric (beside the best one that model selection kept). */
  private lastVal(runId: number): { lastVal?: A.Metrics } {
    const m = { recall20: NaN, recall40: NaN, ndcg100: NaN }
    let any = false
    for (const p of store.getMetricSeries(this.db, runId)) {
      const key = p.name.startsWith('val.') ? p.name.slice(4) : ''
      if (key in m) {
        m[key as keyof A.Metrics] = p.value
        any = true
      }
    }
    return any ? { lastVal: m } : {}
  }

  listRuns(): A.RunSummary[] {
    const names = new Map(store.listDatasets(this.db).map((d) => [d.id, d.name]))
    return store.listRuns(this.db).map((r) => this.summary(r, names.get(r.datasetId) ?? '?'))
  }

  getRun(runId: number): A.RunDetail {
    const row = storeCall(() => store.getRun(this.db, runId))
    const ds = store.getDataset(this.db, row.datasetId)
    const c = this.stored(row)
    return {
      ...this.summary(row, ds.name),
      config: c.resolved,
      templates: c.templates,
      seed: row.seed,
      dataHash: row.dataHash,
      ...(row.error ? { error: row.error } : {}),
    }
  }

  runMetrics(runId: number): A.MetricPoint[] {
    storeCall(() => store.getRun(this.db, runId))
    return store.getMetricSeries(this.db, runId) as A.MetricPoint[]
  }

  results(): A.ResultRow[] {
    const out: A.ResultRow[] = []
    const datasets = new Map(store.listDatasets(this.db).map((d) => [d.id, d]))
    for (const r of this.listRuns()) {
      if (r.status !== 'done' || !r.test) continue
      out.push({
        kind: 'run',
        runId: r.id,
        runName: r.name,
        sweep: r.sweep,
        tags: r.tags,
        seed: r.seed,
        ...(r.val ? { val: r.val } : {}),
        ...this.lastVal(r.id),
        model: 'CLLM4Rec',
        datasetId: r.datasetId,
        datasetName: r.datasetName,
        backbone: r.backbone,
        protocol: r.protocol,
        test: r.test,
        durationSec: r.durationSec,
      })
    }
    const baselines = store
      .listEvaluations(this.db)
      .filter((e) => e.baseline !== undefined && e.split === 'test' && datasets.has(e.datasetId))
    const groups = new Map<string, A.ResultRow>()
    for (const e of baselines) {
      const key = `${e.baseline}|${e.datasetId}|${e.protocol}`
      const ds = datasets.get(e.datasetId)
      const row = groups.get(key) ?? {
        kind: 'baseline' as const,
        model: e.baseline!,
        datasetId: e.datasetId,
        datasetName: ds?.name ?? '?',
        backbone: '-',
        protocol: e.protocol,
        test: { recall20: NaN, recall40: NaN, ndcg100: NaN },
        durationSec: 0,
      }
      if (e.metric in row.test) row.test[e.metric as keyof A.Metrics] = e.value
      else if (e.metric === 'durationSec') row.durationSec = e.value
      groups.set(key, row)
    }
    return [...out, ...groups.values()]
  }
}
