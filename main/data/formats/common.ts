// Options and results shared by all importers.
import { throwIfAborted } from '../errors'
import { readLineBatches, type LineBatch, type TextEncoding } from '../line-reader'
import type { ProgressCallback, ProgressTracker } from '../progress'
import type { ColumnMap } from './delimited'

export type FormatName = 'amazon' | 'movielens' | 'csv' | 'recbole' | 'cllm4rec'
export const FORMAT_NAMES: FormatName[] = ['amazon', 'movielens', 'csv', 'recbole', 'cllm4rec']

export interface ReadOptions {
  signal?: AbortSignal
  onProgress?: ProgressCallback
  maxLineBytes?: number
  /** Delimited text only. */
  map?: ColumnMap
  sep?: string
  header?: boolean
  encoding?: TextEncoding
  /** Amazon: optional item metadata file (title, description, categories) for item texts. */
  itemsFile?: string
  /** Folders every file read must resolve into (browser mode's --data allow-list). */
  allowedRoots?: readonly string[]
}

export interface ReadResult {
  format: FormatName
  /** Every file that was read, in order (used for the file hash). */
  files: string[]
  rows: number
  /** Accepted but suspicious input (duplicate header columns, ...), for the import report. */
  warnings?: string[]
}

/**
 * The line batches of one importer file under its ReadOptions: cancel signal, line-length cap and
 * byte progress into `tracker`; cancel is checked again before each batch is handed out.
 */
export async function* importLineBatches(
  file: string,
  opts: ReadOptions,
  tracker: ProgressTracker,
): AsyncGenerator<LineBatch> {
  for await (const b of readLineBatches(file, {
    signal: opts.signal,
    maxLineBytes: opts.maxLineBytes,
    onBytes: tracker.onBytes,
    allowedRoots: opts.allowedRoots,
  })) {
    throwIfAborted(opts.signal)
    yield b
  }
}
