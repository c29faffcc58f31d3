// The import use case: parse + preprocess with the pure data layer, then write to SQLite in one
// transaction. This is what the CLI `import` command and the app's import dialog call.
import path from 'node:path'
import { buildDataset, defaultName, type BuildOptions } from '../data/import-source'
import type { DatasetStats } from '../data/stats'
import type { PreprocessReport } from '../data/preprocess'
import type { FormatName } from '../data/formats/common'
import { ProgressTracker } from '../data/progress'
import { throwIfAborted } from '../data/errors'
import { DuplicateImportError, findByFileHash, insertDataset } from './datasets-repo'
import type { Store } from './db'

export interface ImportDatasetOptions extends BuildOptions {
  path: string
  /** Base of the automatic name when `name` is not given (an upload's original file name). */
  fallbackName?: string
  /** UUID of the staged rows, so the caller can remove them if this import's thread dies. */
  stagingId?: string
}

export interface ImportDatasetResult {
  datasetId: number
  name: string
  format: FormatName
  hash: string
  fileHash: string
  stats: DatasetStats
  report: PreprocessReport
  /** Accepted but suspicious input (negative ratings, duplicate header columns). */
  warnings: string[]
}

export async function importDataset(store: Store, opts: ImportDatasetOptions): Promise<ImportDatasetResult> {
  // An explicit --name must be free; a default name gets a numeric suffix, picked at commit time.
  const base = opts.name ?? opts.fallbackName ?? defaultName(opts.path)
  const built = await buildDataset(opts.path, { ...opts, name: base })
  throwIfAborted(opts.signal)
  const dup = findByFileHash(store, built.fileHash, built.dataset.hash)
  if (dup) throw new DuplicateImportError(dup, opts.path)
  const t = new ProgressTracker(opts.onProgress, 'write', built.stats.interactions.total)
  const options = {
    minRating: opts.minRating,
    kcore: opts.kcore,
    split: opts.split,
    seed: opts.seed,
    dedup: opts.dedup,
    map: opts.map,
    sep: opts.sep,
    itemsFile: opts.itemsFile,
    files: built.source.files,
  }
  const datasetId = insertDataset(
    store,
    {
      dataset: built.dataset,
      stats: built.stats,
      source: path.resolve(opts.path),
      format: built.source.format,
      fileHash: built.fileHash,
      options,
      values: built.values,
      autoName: opts.name === undefined,
      stagingId: opts.stagingId,
    },
    { onRows: (n) => t.update(n, n), signal: opts.signal },
  )
  t.update(built.stats.interactions.total, built.stats.interactions.total, true)
  new ProgressTracker(opts.onProgress, 'done', 0).update(0, built.stats.interactions.total, true)
  const name = store.db.prepare('SELECT name FROM datasets WHERE id = ?').pluck().get(datasetId) as string
  return {
    datasetId,
    name,
    format: built.source.format,
    hash: built.dataset.hash,
    fileHash: built.fileHash,
    stats: built.stats,
    report: built.report,
    warnings: built.warnings,
  }
}
