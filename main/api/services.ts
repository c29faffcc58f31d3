// The ONE adapter between the API and the other layers (store, data, engine). Every call into those
// modules goes through here (and services-runs.ts for runs, services-jobs.ts for job workers), so a change in their signatures is fixed
// in these files only. Handlers have already validated argument types; this layer checks existence.
import { randomUUID } from 'node:crypto'
import path from 'node:path'
import type * as A from '../../preload/api'
import { previewFile, type FormatName } from '../data/import-source'
import type { ImportProgress } from '../data/progress'
import type { RecDataset } from '../data/types'
import { MAX_MULT_VAE_EPOCHS, MULT_VAE_EPOCHS } from '../engine/baselines/mult-vae-epochs'
import { PRESETS } from '../engine/cllm4rec/config'
import { DEFAULT_PROMPTS, PROMPT_PRESETS, validateTemplate } from '../engine/cllm4rec/prompts'
import * as store from '../store'
import { EngineClient } from '../worker/engine-client'
import { probeBackend } from '../worker/run-manager'
import { configFields } from './config-schema'
import { Backbones } from './services-backbones'
import { JOB_HEAP_MB, runInJobWorker, type DemoArgs } from './services-jobs'
import type { EventBus } from './events'
import type { FileAccess } from './files'
import { ApiError, DOCUMENT_KINDS } from './validate'

export interface ImportArgs {
  /** Explicit: must be free. Else fallbackName, with a -2, -3 ... suffix where taken. */
  name?: string
  fallbackName?: string
  format?: string
  map?: A.ColumnMap
  minRating?: number
  kcore?: number
  split?: [number, number, number]
  seed?: number
  /** Folders every file the import reads must resolve into (symlinks followed). */
  allowedRoots?: string[]
}

export interface ServicesOptions {
  dbPath: string
  bus: EventBus
  files: FileAccess
  /** Heap cap (MiB) of import / demo workers (default JOB_HEAP_MB). */
  jobHeapMb?: number
}

/** --db flag, else CLLM4REC_DB, else the per-user app-data folder (the store decides). */
export function defaultDbPath(flag?: string): string {
  return store.resolveDbPath(flag)
}

/** Worker side: opens its own connection (SQLite WAL allows it beside main's) and loads one dataset. */
export async function loadDatasetFromDb(dbPath: string, datasetId: number): Promise<RecDataset> {
  const s = store.openStore(dbPath)
  try {
    return store.loadDataset(s, datasetId)
  } finally {
    s.close()
  }
}

const TRASH_KEEP_MS = 24 * 3600 * 1000
const FORMATS: readonly string[] = ['amazon', 'movielens', 'csv', 'recbole', 'cllm4rec']
const TEXT_EDGES = [0, 50, 100, 200, 500, 1000, 2000, 5000]

/** Store errors for missing rows become 404s; other store errors are bad requests. */
function storeCall<T>(fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if (err instanceof store.BusyError) throw new ApiError(err.message, 503)
    if (err instanceof store.StoreError)
      throw new ApiError(err.message, /^no \w+ (with id|named)/.test(err.message) ? 404 : 409)
    throw err
  }
}

/** Worker side: preview rows plus a suggested column map for delimited text. */
export async function previewImportFile(
  file: string,
  format?: FormatName,
  allowedRoots?: string[],
): Promise<A.ImportPreview> {
  const p = await previewFile(file, 10, { format, allowedRoots })
  let suggestedMap: A.ColumnMap | undefined
  if (p.mapping && p.mapping.user !== undefined && p.mapping.item !== undefined) {
    const col = (role: string): string | undefined => {
      const i = p.mapping?.[role]
      return i === undefined ? undefined : p.columns[i]
    }
    suggestedMap = {
      user: col('user')!,
      item: col('item')!,
      rating: col('rating'),
      timestamp: col('timestamp'),
      text: col('text'),
    }
  }
  return { format: p.format, columns: p.columns, rows: p.rows, suggestedMap }
}

/** The import's filter counts, from the stored preprocessing report and options. */
export function importReport(r: store.DatasetRow): A.ImportReport | undefined {
  const p = r.stats.preprocessing
  if (!p) return undefined
  const opt = (k: string): number | null =>
    typeof r.options[k] === 'number' ? (r.options[k] as number) : null
  return {
    rawRows: p.rawRows,
    rawUsers: p.rawUsers ?? NaN,
    rawItems: p.rawItems ?? NaN,
    duplicateRows: p.duplicateRows,
    belowThreshold: p.belowThreshold,
    kcoreRemoved: p.kcoreRemoved,
    keptRows: p.keptRows,
    minRating: opt('minRating'),
    kcore: opt('kcore'),
  }
}

/** Below these the top-K metrics say little: Recall@20 over 24 items is close to 1 by construction. */
const MIN_ITEMS = 100
const MIN_USERS = 100

export function datasetWarnings(r: store.DatasetRow, report?: A.ImportReport): string[] {
  const out: string[] = []
  if (r.items < MIN_ITEMS)
    out.push(
      `only ${r.items} items: Recall@20 / Recall@40 rank among so few items that they are close to trivial`,
    )
  if (r.users < MIN_USERS) out.push(`only ${r.users} users: test metrics average over very few users`)
  if (report && report.keptRows < report.rawRows / 2) {
    const pct = Math.round((100 * (report.rawRows - report.keptRows)) / report.rawRows)
    out.push(`the import filters removed ${pct}% of the file's rows`)
  }
  return out
}

export class Services {
  readonly dbPath: string
  readonly db: store.Store
  readonly bus: EventBus
  private readonly files: FileAccess
  /** Running imports: each in its own worker thread, cancelled through a shared flag. */
  private readonly imports = new Map<string, { flag: Int32Array; client: EngineClient }>()
  readonly backbones: Backbones
  /** The long-lived engine worker: previews, inspection, baselines (never main's event loop). */
  readonly engine = new EngineClient()

  /** Heap cap of the one-off job workers (imports, demo datasets, baselines). */
  readonly jobHeapMb: number

  constructor(options: ServicesOptions) {
    this.dbPath = options.dbPath
    this.jobHeapMb = options.jobHeapMb ?? JOB_HEAP_MB
    this.bus = options.bus
    this.files = options.files
    this.db = store.openStore(options.dbPath)
    // The trash is an undo buffer, not an archive: what has sat there a day goes at the next start.
    store.purgeTrash(this.db, new Date(Date.now() - TRASH_KEEP_MS).toISOString())
    this.backbones = new Backbones(options.files)
  }

  private backendProbe: Promise<A.AppInfo['backend']> | undefined
  /** The probed backend once known: new runs are labelled with it from the start, not 'auto'. */
  knownBackend: string | undefined

  /** The backend training will use, asked once of a worker thread (main never loads tfjs for this). */
  backend(): Promise<A.AppInfo['backend']> {
    this.backendProbe ??= probeBackend()
      .then((b) => {
        this.knownBackend = b.name
        return b
      })
      .catch((err) => {
        this.backendProbe = undefined
        throw err
      })
    return this.backendProbe
  }

  // ---- datasets ----
  private summary(r: store.DatasetRow): A.DatasetSummary {
    return {
      id: r.id,
      name: r.name,
      synthetic: r.synthetic,
      format: r.format,
      users: r.users,
      items: r.items,
      interactions: r.interactions,
      density: r.density,
      splitProtocol: r.splitProtocol,
      hash: r.dataHash,
      createdAt: r.createdAt,
    }
  }

  listDatasets(): A.DatasetSummary[] {
    return store.listDatasets(this.db).map((r) => this.summary(r))
  }

  getDataset(id: number): A.DatasetDetail {
    const r = storeCall(() => store.getDataset(this.db, id))
    const s = r.stats
    const report = importReport(r)
    return {
      ...this.summary(r),
      stats: {
        split: { train: s.interactions.train, val: s.interactions.val, test: s.interactions.test },
        userDegree: s.userDegree.histogram,
        itemDegree: s.itemDegree.histogram,
        textCoverage: {
          reviews: s.text.reviews.interactionCoverage,
          itemTexts: s.text.itemTexts.coverage,
          userTexts: s.text.userTexts.coverage,
        },
        textLength: this.textLengths(id),
      },
      ...(report ? { importReport: report } : {}),
      warnings: datasetWarnings(r, report),
    }
  }

  /** Lengths (characters) of every text the content LLM reads: reviews, item and user texts. */
  private textLengths(id: number): A.Histogram {
    const lengths = this.db.db
      .prepare('SELECT length(text) FROM texts WHERE dataset_id = ?')
      .pluck()
      .all(id) as number[]
    const counts = TEXT_EDGES.map(() => 0)
    for (const n of lengths) {
      let b = TEXT_EDGES.length - 1
      while (b > 0 && n < TEXT_EDGES[b]) b--
      counts[b]++
    }
    return { edges: TEXT_EDGES, counts }
  }

  private format(f: string | undefined): FormatName | undefined {
    if (f === undefined) return undefined
    if (!FORMATS.includes(f)) throw new ApiError(`argument 'format' must be one of ${FORMATS.join(', ')}`)
    return f as FormatName
  }

  /** The first rows of a file, read in the engine worker (some formats decompress whole archives). */
  async previewImport(file: string, format?: string, allowedRoots?: string[]): Promise<A.ImportPreview> {
    try {
      return await this.engine.call<A.ImportPreview>({
        op: 'previewImport',
        file,
        format: this.format(format),
        allowedRoots,
      })
    } catch (err) {
      if (err instanceof ApiError) throw err
      // The data layer's errors name the file, line and field: the user's to fix.
      throw new ApiError((err as Error).message)
    }
  }

  async importDataset(
    file: string,
    o: ImportArgs,
  ): Promise<{ jobId: string; datasetId: number; warnings: string[] }> {
    const jobId = randomUUID()
    const cancelFlag = new SharedArrayBuffer(4)
    // A dedicated worker per import: parsing millions of rows never blocks main or the inspection worker.
    const flag = new Int32Array(cancelFlag)
    const onProgress = importProgress(this.bus, jobId)
    // Names the import's staged rows: if its worker dies mid-write, main removes them.
    const stagingId = randomUUID()
    const options = {
      stagingId,
      name: o.name,
      fallbackName: o.fallbackName,
      format: this.format(o.format),
      map: o.map,
      minRating: o.minRating,
      kcore: o.kcore,
      split: o.split,
      seed: o.seed,
      allowedRoots: o.allowedRoots,
    }
    try {
      const r = await runInJobWorker<{ datasetId: number; warnings: string[] }>(
        this.jobHeapMb,
        `import of ${path.basename(file)}`,
        { op: 'importDataset', dbPath: this.dbPath, file, options, cancelFlag },
        onProgress,
        (client) => this.imports.set(jobId, { flag, client }),
      )
      this.bus.emit({
        type: 'import.progress',
        jobId,
        fraction: 1,
        rowsPerSec: 0,
        etaSec: 0,
        message: 'done',
      })
      return { jobId, datasetId: r.datasetId, warnings: r.warnings }
    } catch (err) {
      try {
        store.removeStaged(this.db, stagingId)
      } catch {
        // the import's own error matters more; leftovers go at the next start
      }
      throw importError(err, jobId)
    } finally {
      this.imports.delete(jobId)
    }
  }

  cancelImport(jobId: string): void {
    const job = this.imports.get(jobId)
    if (!job) throw new ApiError(`no running import with jobId '${jobId}'`, 404)
    Atomics.store(job.flag, 0, 1)
  }

  /** Generation and the write run in a one-off worker: a large demo never blocks main's event loop. */
  async createDemoDataset(o: DemoArgs): Promise<A.DatasetSummary> {
    const r = await runInJobWorker<{ datasetId: number }>(this.jobHeapMb, 'demo dataset', {
      op: 'createDemoDataset',
      dbPath: this.dbPath,
      options: o,
    })
    return this.summary(storeCall(() => store.getDataset(this.db, r.datasetId)))
  }

  deleteDataset(id: number): void {
    storeCall(() => store.trashDataset(this.db, id))
  }

  restoreDataset(id: number): void {
    storeCall(() => store.restoreDataset(this.db, id))
  }

  listUsers(datasetId: number, query: string, limit: number): A.UserRef[] {
    storeCall(() => store.getDataset(this.db, datasetId))
    return store.searchUsers(this.db, datasetId, query, limit)
  }

  listItems(datasetId: number, query: string, limit: number): A.ItemRef[] {
    storeCall(() => store.getDataset(this.db, datasetId))
    return store.searchItems(this.db, datasetId, query, limit)
  }

  // ---- prompts ----
  listPromptPresets(): A.PromptPreset[] {
    const byName = new Map<string, A.PromptPreset>()
    for (const [name, templates] of Object.entries(PROMPT_PRESETS))
      byName.set(name, { name, builtin: true, templates: { ...templates } })
    for (const r of store.listPromptTemplates(this.db)) {
      if (Object.hasOwn(PROMPT_PRESETS, r.name)) continue
      const p = byName.get(r.name) ?? { name: r.name, builtin: r.builtin, templates: { ...DEFAULT_PROMPTS } }
      if ((DOCUMENT_KINDS as readonly string[]).includes(r.kind))
        p.templates[r.kind as A.DocumentKind] = r.template
      byName.set(r.name, p)
    }
    return [...byName.values()]
  }

  savePromptPreset(name: string, templates: A.PromptTemplates): A.PromptPreset {
    if (Object.hasOwn(PROMPT_PRESETS, name))
      throw new ApiError(`preset '${name}' is built in and cannot be overwritten`, 409)
    const bad = this.templateErrors(templates)
    if (bad.length) throw new ApiError(bad.join('; '))
    store.savePromptTemplates(this.db, name, templates)
    return { name, builtin: false, templates }
  }

  deletePromptPreset(name: string): void {
    if (Object.hasOwn(PROMPT_PRESETS, name)) throw new ApiError(`preset '${name}' is built in`, 409)
    if (store.deletePromptTemplates(this.db, name) === 0)
      throw new ApiError(`no prompt preset named '${name}'`, 404)
  }

  private templateErrors(t: A.PromptTemplates): string[] {
    const out: string[] = []
    for (const k of DOCUMENT_KINDS) {
      try {
        validateTemplate(k, t[k])
      } catch (err) {
        out.push((err as Error).message)
      }
    }
    return out
  }

  // ---- config ----
  configSchema(): A.ConfigSchema {
    return {
      fields: configFields(),
      presets: structuredClone(PRESETS) as Record<string, Record<string, unknown>>,
      multVaeEpochs: { default: MULT_VAE_EPOCHS, max: MAX_MULT_VAE_EPOCHS },
    }
  }

  close(): void {
    for (const job of this.imports.values()) Atomics.store(job.flag, 0, 1)
    this.db.close()
  }
}

/** Share of the import's fraction each worker phase covers, as [start, span]. */
const IMPORT_PHASES: Record<string, [number, number]> = {
  hash: [0, 0.05],
  parse: [0.05, 0.7],
  preprocess: [0.75, 0.1],
  write: [0.85, 0.15],
  done: [1, 0],
}

/** The import worker's progress as 'import.progress' events, at most one every 100 ms until done. */
function importProgress(bus: EventBus, jobId: string): (raw: unknown) => void {
  const started = Date.now()
  let lastEmit = 0
  return (raw) => {
    const p = raw as ImportProgress
    const now = Date.now()
    if (now - lastEmit < 100 && p.phase !== 'done') return
    lastEmit = now
    const [base, span] = IMPORT_PHASES[p.phase] ?? [0, 0]
    const inPhase = p.totalBytes > 0 ? Math.min(1, p.bytesRead / p.totalBytes) : 0
    const elapsed = (now - started) / 1000
    const fraction = base + span * inPhase
    bus.emit({
      type: 'import.progress',
      jobId,
      fraction,
      rowsPerSec: elapsed > 0 ? p.rows / elapsed : 0,
      etaSec: fraction > 0 ? (elapsed * (1 - fraction)) / fraction : 0,
      message: `${p.phase}${p.file ? ` ${path.basename(p.file)}` : ''}: ${p.rows} rows`,
    })
  }
}

/** A failed import as the API's error: cancelled 409, a duplicate 409, a busy database 503, else 400. */
function importError(err: unknown, jobId: string): ApiError {
  if (err instanceof ApiError) return err
  const msg = err instanceof Error ? err.message : String(err)
  if (/cancel/i.test(msg)) return new ApiError(`import ${jobId} cancelled`, 409)
  // Bad files are the user's to fix: the data layer's messages name file, line and field.
  return new ApiError(msg, /already imported/.test(msg) ? 409 : /database busy/.test(msg) ? 503 : 400)
}
