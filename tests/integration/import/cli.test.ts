// The `import` and `dataset` CLI commands in-process, against a real SQLite file (--db).
import { afterAll, describe, expect, it, vi } from 'vitest'
import path from 'node:path'
import { dataCommands } from '../../../main/cli/data-commands'
import { tempDir } from '../../unit/data/helpers'

const t = tempDir('cllm4rec-cli-')
afterAll(t.cleanup)
const db = path.join(t.dir, 'cli.db')
const ML = path.resolve(__dirname, '../../../../shared/data/movielens-100k/original/ml-100k')

async function run(
  name: 'import' | 'dataset',
  argv: string[],
): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true))
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true))
  try {
    const cmd = dataCommands[name]
    const code = await (typeof cmd === 'function' ? cmd(argv) : cmd.run(argv))
    return { code, out, err }
  } finally {
    o.mockRestore()
    e.mockRestore()
  }
}

describe('data CLI', () => {
  it('imports with options, prints JSON, and reports progress on stderr', async () => {
    const r = await run('import', [
      ML,
      '--db',
      db,
      '--name',
      'ml',
      '--min-rating',
      '4',
      '--kcore',
      '5',
      '--split',
      '0.8,0.1,0.1',
      '--seed',
      '3',
      '--json',
    ])
    expect(r.code).toBe(0)
    const res = JSON.parse(r.out)
    expect(res).toMatchObject({ name: 'ml', format: 'movielens' })
    expect(res.stats.interactions.total).toBeLessThanOrEqual(55_375)
    expect(res.stats.userDegree.min).toBeGreaterThanOrEqual(5)
    expect(r.err).toMatch(/\[parse\]/)
    expect(r.err).toMatch(/\[write\]/)
  })
  it('lists, shows and deletes', async () => {
    const list = await run('dataset', ['list', '--db', db, '--json'])
    expect(JSON.parse(list.out).map((d: { name: string }) => d.name)).toEqual(['ml'])
    const show = await run('dataset', ['show', 'ml', '--db', db])
    expect(show.out).toMatch(/interactions \d+ \(train \d+ \/ val \d+ \/ test \d+\)/)
    expect(show.out).toMatch(/seed 3/)
    expect((await run('dataset', ['delete', 'ml', '--db', db])).out).toMatch(/deleted dataset 'ml'/)
    expect((await run('dataset', ['list', '--db', db])).out).toMatch(/no datasets/)
  })
  it('exit 2 for usage errors, 1 for data errors, with one-line messages', async () => {
    expect(await run('import', [ML, '--db', db, '--bogus'])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/unknown flag --bogus/),
    })
    expect(await run('import', [ML, '--db', db, '--split', '0.5,0.5,0.5'])).toMatchObject({
      code: 1,
      err: expect.stringMatching(/sum to 1/),
    })
    expect(await run('import', [ML, '--db', db, '--format', 'parquet'])).toMatchObject({ code: 2 })
    expect(await run('dataset', ['show', 'nope', '--db', db])).toMatchObject({
      code: 1,
      err: expect.stringMatching(/no dataset named 'nope'/),
    })
    expect(await run('dataset', ['frobnicate', '--db', db])).toMatchObject({ code: 2 })
    const f = t.file('x.jsonl', '{"reviewerID": "a", "asin": "b"}\n{oops\n')
    expect(await run('import', [f, '--db', db, '--quiet'])).toMatchObject({
      code: 1,
      err: expect.stringMatching(/x\.jsonl, line 2: malformed JSON/),
    })
  })
})
