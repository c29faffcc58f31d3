// Crash safety with a real SQLite file: a child process killed (SIGKILL) in the middle of the import
// transaction leaves the database exactly as before, passing integrity_check, and the same file can
// then be imported normally.
import { afterAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { openStore } from '../../../main/store/db'
import { importDataset } from '../../../main/store/import-dataset'
import { listDatasets } from '../../../main/store/datasets-repo'
import { tempDir } from '../../unit/data/helpers'
import { dbSnapshot } from '../import/db-snapshot'

const t = tempDir('cllm4rec-crash-')
afterAll(t.cleanup)
const ROOT = path.resolve(__dirname, '../../..')

describe('killed mid-import', () => {
  it('leaves the database intact', async () => {
    const db = path.join(t.dir, 'wb.db')
    const store = openStore(db)
    await importDataset(store, {
      path: t.file('seed.tsv', 'user\titem\n1\t1\n1\t2\n2\t1\n'),
      name: 'seed',
      split: [1, 0, 0],
    })
    const before = dbSnapshot(store)
    store.close()

    const lines: string[] = []
    for (let u = 0; u < 20_000; u++)
      for (let k = 0; k < 10; k++) lines.push(`${u}\t${(u * 7 + k * 13) % 5000}\t${(k % 5) + 1}`)
    const input = t.file('big.tsv', 'user\titem\trating\n' + lines.join('\n') + '\n')

    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, 'crash-child.ts'), db, input],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let out = ''
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    )
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d
        if (out.includes('WRITING')) {
          child.kill('SIGKILL')
          resolve()
        }
      })
      child.on('exit', () => reject(new Error(`child exited before writing: ${out} ${err}`)))
    })
    expect(await exit).toEqual({ code: null, signal: 'SIGKILL' })
    const written = Number(/WRITING (\d+)/.exec(out)![1])
    expect(written).toBeGreaterThan(0) // rows were inside the open transaction when it died
    expect(out).not.toContain('COMMITTED')

    const after = openStore(db)
    expect(after.db.pragma('integrity_check', { simple: true })).toBe('ok')
    expect(dbSnapshot(after)).toBe(before)
    expect(listDatasets(after).map((d) => d.name)).toEqual(['seed'])
    // Nothing half-written blocks a clean retry (no stale file hash, no partial rows).
    const r = await importDataset(after, { path: input, name: 'crashing' })
    expect(r.stats.interactions.total).toBe(200_000)
    after.close()
    expect(fs.existsSync(db)).toBe(true)
  })
})
