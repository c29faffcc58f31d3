// The further scratch-backbone documents of `scratch.extraTexts`, without tfjs so main can check the file
// when a run is started.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

/**
 * The further backbone documents of `scratch.extraTexts`: the file's non-empty lines and their hash (the
 * cache key holds the content, not the path). Throws naming the file when it is missing or empty.
 */
export interface ExtraTexts {
  texts: string[]
  sha256: string
}

export function readExtraTexts(file: string): ExtraTexts {
  let raw: string
  try {
    raw = fs.readFileSync(file, 'utf8')
  } catch (e) {
    throw new Error(`scratch.extraTexts: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`)
  }
  const texts = raw.split(/\r?\n/).filter((l) => l.trim() !== '')
  if (texts.length === 0) throw new Error(`scratch.extraTexts: ${file} has no non-empty lines`)
  return { texts, sha256: createHash('sha256').update(texts.join('\n')).digest('hex') }
}

/**
 * The check main makes when a run is created, without reading the file on its thread: an absolute path
 * (the worker's directory is not the window's) to a readable, non-empty file. Its lines are read in the
 * worker.
 */
export function checkExtraTextsFile(file: string): void {
  if (!path.isAbsolute(file))
    throw new Error(`config: "scratch.extraTexts" must be an absolute path, got ${file}`)
  let st: fs.Stats
  try {
    st = fs.statSync(file)
    fs.accessSync(file, fs.constants.R_OK)
  } catch (e) {
    throw new Error(`scratch.extraTexts: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`)
  }
  if (!st.isFile()) throw new Error(`scratch.extraTexts: ${file} is not a file`)
  if (st.size === 0) throw new Error(`scratch.extraTexts: ${file} is empty`)
}
