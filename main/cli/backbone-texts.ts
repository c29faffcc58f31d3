// Another dataset's texts as further documents for the scratch backbone (`scratch.extraTexts`): `cli texts`
// (in train-commands) writes them, and `--backbone-texts` on train and the quality bench takes a text file
// or a dataset.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { backboneTexts } from '../engine/cllm4rec/corpus'
import type { ConfigOverrides } from '../engine/cllm4rec/config'
import type { RecDataset } from '../data/types'
import { UsageError, type FlagSpecs } from './args'

type Resolve = (spec: string) => Promise<RecDataset>

/**
 * A dataset's backbone documents, one a line: its item and user texts and its training reviews only (a
 * validation or test review never leaves the dataset), without the prompt phrases, line breaks as spaces.
 */
export function datasetTextLines(data: RecDataset): string[] {
  return backboneTexts(data).map((t) => t.replace(/\s*[\r\n]+\s*/g, ' ').trim())
}

/**
 * `--backbone-texts SPEC`: a text file is used as it is; anything else is resolved as a dataset, whose
 * lines are written to a file named by their hash (the same dataset gives the same path, so a resumed
 * run finds it again).
 */
export async function backboneTextsFile(spec: string, resolve: Resolve): Promise<string> {
  if (fs.existsSync(spec) && fs.statSync(spec).isFile()) return path.resolve(spec)
  const data = await resolve(spec)
  const lines = datasetTextLines(data)
  const sha = createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16)
  const file = path.join(os.tmpdir(), 'cllm4rec-texts', `${data.name.replace(/[^\w.-]+/g, '_')}-${sha}.txt`)
  if (!fs.existsSync(file)) writeLinesAtomic(file, lines)
  return file
}

/** One line each, written to a temp file beside `file` and renamed into place: never half a file. */
export function writeLinesAtomic(file: string, lines: string[]): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
  const tmp = `${file}.tmp-${process.pid}`
  try {
    fs.writeFileSync(tmp, lines.join('\n') + '\n')
    fs.renameSync(tmp, file)
  } catch (e) {
    fs.rmSync(tmp, { force: true })
    throw e
  }
}

/** Sets `scratch.extraTexts` in a run's overrides from `--backbone-texts`, when given. */
export async function applyBackboneTexts(
  overrides: ConfigOverrides,
  spec: string | undefined,
  resolve: Resolve,
): Promise<void> {
  if (spec === undefined) return
  if (spec.trim() === '') throw new UsageError('--backbone-texts: give a text file or a dataset')
  const file = await backboneTextsFile(spec, resolve)
  overrides.scratch = { ...overrides.scratch, extraTexts: file }
  process.stderr.write(`backbone texts: ${file}\n`)
}

export const BACKBONE_TEXTS_FLAG = {
  'backbone-texts': {
    type: 'string',
    help: "further scratch-backbone documents: a text file (one a line) or a dataset whose texts are used (e.g. another split's item tags)",
  },
} as const satisfies FlagSpecs
