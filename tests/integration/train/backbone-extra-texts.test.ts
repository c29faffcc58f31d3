// `scratch.extraTexts`: another dataset's texts as further documents for the scratch backbone. The file's
// lines join the corpus, its content (not its path) keys the cache, bad files fail naming the file, and
// `cli texts` writes a dataset's training texts only.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateDemoDataset } from '../../../main/data/demo'
import { initBackend } from '../../../main/engine/backend'
import { prepareBackbone, scratchCacheDir } from '../../../main/engine/cllm4rec/backbone'
import { checkExtraTextsFile, readExtraTexts } from '../../../main/engine/cllm4rec/extra-texts'
import { resolveConfig } from '../../../main/engine/cllm4rec/config'
import { backboneTexts } from '../../../main/engine/cllm4rec/corpus'
import { DEFAULT_PROMPTS } from '../../../main/engine/cllm4rec/prompts'
import { PROVENANCE_FILE } from '../../../main/engine/gpt2/scratch'
import { applyBackboneTexts, backboneTextsFile, datasetTextLines } from '../../../main/cli/backbone-texts'
import type { ConfigOverrides } from '../../../main/engine/cllm4rec/config'
import { tinyData } from '../../unit/cllm4rec/fixtures'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'backbone-extra-'))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))
beforeAll(async () => {
  await initBackend('native')
})

const TINY_SCRATCH = { layers: 1, width: 16, heads: 2, context: 32, epochs: 1, vocabSize: 300 }
const write = (name: string, text: string): string => {
  const file = path.join(root, name)
  fs.writeFileSync(file, text)
  return file
}

describe('scratch.extraTexts', () => {
  it('adds the file’s non-empty lines to the backbone corpus', async () => {
    const data = generateDemoDataset({ seed: 4, users: 30, items: 20, perUser: 5 })
    const extra = write(
      'extra.txt',
      'zebra quartz violin\n\n  \nmaple harbor lantern\r\nsilver canyon drift\n',
    )
    const config = resolveConfig('fast', { scratch: { ...TINY_SCRATCH, extraTexts: extra } })
    const logs: string[] = []
    const b = await prepareBackbone(data, config, { dir: path.join(root, 'bb'), onLog: (m) => logs.push(m) })
    b.model.dispose()
    const provenance = JSON.parse(fs.readFileSync(path.join(root, 'bb', PROVENANCE_FILE), 'utf8'))
    expect(provenance.documents).toBe(backboneTexts(data, config.prompts).length + 3)
    expect(logs.join('\n')).toContain(`and 3 of ${extra}`)
  }, 120_000)

  it('keys the cache by the file’s content, not its path; none keeps the key it had before', () => {
    const data = generateDemoDataset({ seed: 4, users: 30, items: 20, perUser: 5 })
    const a = write('a.txt', 'one line\nanother line\n')
    const sameContent = write('b.txt', 'one line\n\nanother line')
    const other = write('c.txt', 'one line\nanother, different line\n')
    const dir = (extraTexts: string | null) =>
      scratchCacheDir(data, resolveConfig('fast', { scratch: { extraTexts } }))
    expect(dir(sameContent)).toBe(dir(a))
    expect(dir(other)).not.toBe(dir(a))
    expect(dir(null)).not.toBe(dir(a))
    expect(readExtraTexts(a).texts).toEqual(['one line', 'another line'])
  })

  it('fails naming the file when it is missing or has no text, and rejects a wrong type', () => {
    const missing = path.join(root, 'nope.txt')
    expect(() => readExtraTexts(missing)).toThrow(`scratch.extraTexts: cannot read ${missing}: ENOENT`)
    const blank = write('blank.txt', '\n   \n')
    expect(() => readExtraTexts(blank)).toThrow(`scratch.extraTexts: ${blank} has no non-empty lines`)
    expect(() => resolveConfig('fast', { scratch: { extraTexts: 3 as unknown as string } })).toThrow(
      '"scratch.extraTexts" must be a string',
    )
    expect(() => resolveConfig('fast', { scratch: { extraTexts: ' ' } })).toThrow('scratch.extraTexts')
    expect(resolveConfig('fast').scratch.extraTexts).toBeNull()
  })

  it('is checked without reading it when a run is created: absolute, a readable file, not empty', () => {
    expect(() => checkExtraTextsFile('texts.txt')).toThrow('must be an absolute path, got texts.txt')
    expect(() => checkExtraTextsFile(root)).toThrow(`scratch.extraTexts: ${root} is not a file`)
    const empty = write('empty.txt', '')
    expect(() => checkExtraTextsFile(empty)).toThrow(`scratch.extraTexts: ${empty} is empty`)
    expect(() => checkExtraTextsFile(path.join(root, 'nope.txt'))).toThrow('ENOENT')
    expect(() => checkExtraTextsFile(write('ok.txt', 'a line\n'))).not.toThrow()
  })
})

describe('cli texts', () => {
  it("writes a dataset's item texts and training reviews, one a line, never a held-out review or a prompt", () => {
    const d = tinyData()
    d.reviews = [...d.reviews, { user: 0, item: 3, text: 'great MARKERVAL\nlipstick.' }]
    d.itemTexts[1] = 'two\nlines'
    const lines = datasetTextLines(d)
    expect(lines).toContain('great red lipstick.')
    expect(lines).toContain('two lines')
    expect(lines.join('\n')).not.toMatch(/MARKER|interacted/)
    expect(lines.every((l) => !l.includes('\n'))).toBe(true)
    expect(backboneTexts(d, DEFAULT_PROMPTS).length).toBeGreaterThan(lines.length)
  })

  it('writes the demo dataset’s texts through the CLI as lines scratch.extraTexts reads back', () => {
    const out = path.join(root, 'demo-texts.txt')
    const cli = path.resolve(__dirname, '../../../main/cli/index.ts')
    const tsx = path.resolve(__dirname, '../../../node_modules/.bin/tsx')
    execFileSync(tsx, [cli, 'texts', '--dataset', 'demo', '--out', out], { stdio: 'pipe' })
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n')
    expect(lines.length).toBeGreaterThan(10)
    expect(readExtraTexts(out).texts).toEqual(lines)
  }, 60_000)
})

describe('--backbone-texts', () => {
  it('takes a text file as it is and a dataset as its texts, in a file its content names', async () => {
    const data = generateDemoDataset({ seed: 9, users: 20, items: 20, perUser: 4 })
    const resolve = async (spec: string) => {
      if (spec !== 'small-demo') throw new Error(`unexpected ${spec}`)
      return data
    }
    const file = write('given.txt', 'a line\n')
    expect(await backboneTextsFile(file, resolve)).toBe(path.resolve(file))
    const fromData = await backboneTextsFile('small-demo', resolve)
    expect(fs.readFileSync(fromData, 'utf8').trim().split('\n')).toEqual(datasetTextLines(data))
    expect(await backboneTextsFile('small-demo', resolve)).toBe(fromData)
    const overrides: ConfigOverrides = { scratch: { epochs: 3 } }
    await applyBackboneTexts(overrides, file, resolve)
    expect(overrides.scratch).toEqual({ epochs: 3, extraTexts: path.resolve(file) })
    await expect(applyBackboneTexts({}, ' ', resolve)).rejects.toThrow('--backbone-texts')
  })
})
