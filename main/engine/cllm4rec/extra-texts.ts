// The further scratch-backbone documents of `scratch.extraTexts`, read without tfjs so main can check the
// file when a run is started.
import { createHash } from 'node:crypto'
import fs from 'node:fs'

/**
 * The further backbone documents of `scratch.extraTexts`: the file's non-empty lines and their hash (the
 * cache key holds the content, not the path). Throws naming the file when it is missing or empty.
 */
export function readExtraTexts(file: string): { texts: string[]; sha256: string } {
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
