// Options and results shared by all importers.
import type { TextEncoding } from '../line-reader'
import type { ProgressCallback } from '../progress'
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
}

export interface ReadResult {
  format: FormatName
  /** Every file that was read, in order (used for the file hash). */
  files: string[]
  rows: number
}
