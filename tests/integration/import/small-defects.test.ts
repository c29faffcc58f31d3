// The smaller import defects of issue 12: names picked at commit time, warnings for suspicious input,
// errors reported against the file that is wrong, a sane write-phase ETA, stale upload folders removed.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openStore } from '../../../main/store/db'
import { importDataset } from '../../../main/store/import-dataset'
import { ProgressTracker, type ImportProgress } from '../../../main/data/progress'
import { FileAccess } from '../../../main/api/files'
import { tempDir } from '../../unit/data/helpers'

const t = tempDir('cllm4rec-small-')
afterAll(() => t.cleanup())

describe('smaller import defects', () => {
  it('two concurrent imports with the same default name both succeed', async () => {
    const file = path.join(t.dir, 'names.db')
    const a = openStore(file)
    const b = openStore(file)
    const rows = (n: number) => [
      'user\titem',
      ...Array.from({ length: 2000 }, (_, k) => `u${k % 50}\ti${(k * n) % 97}`),
    ]
    const fa = t.file('x/data.tsv', rows(7).join('\n'))
    const fb = t.file('y/data.tsv', rows(11).join('\n'))
    const [ra, rb] = await Promise.all([importDataset(a, { path: fa }), importDataset(b, { path: fb })])
    expect([ra.name, rb.name].sort()).toEqual(['data', 'data-2'])
    // An explicit name still has to be free.
    await expect(
      importDataset(a, { path: t.file('z/data.tsv', rows(13).join('\n')), name: 'data' }),
    ).rejects.toThrow(/a dataset named 'data' already exists .*choose another --name/)
    a.close()
    b.close()
  })

  it('negative ratings and duplicate header columns are accepted with warnings', async () => {
    const s = openStore(path.join(t.dir, 'warn.db'))
    const f = t.file('neg.tsv', 'user\titem\trating\tUser\n1\t1\t5\tx\n1\t2\t-3\tx\n2\t1\t-1\tx\n')
    const r = await importDataset(s, { path: f, map: { user: 'user', item: 'item', rating: 'rating' } })
    expect(r.warnings).toEqual([
      `${f}, line 1: column 'User' appears twice (columns 1 and 4); a name in the map means column 1`,
      `${f}: 2 interaction(s) have a negative rating (lowest -3); check the rating column`,
    ])
    const clean = await importDataset(s, { path: t.file('ok.tsv', 'user\titem\trating\n1\t1\t5\n') })
    expect(clean.warnings).toEqual([])
    s.close()
  })

  it('a bad u.genre is reported against u.genre, not u.item', async () => {
    const s = openStore(path.join(t.dir, 'ml.db'))
    const flags = new Array(19).fill(0).join('|')
    t.file('ml/u.data', '1\t1\t5\t100\n2\t1\t4\t101\n')
    t.file('ml/u.item', `1|Toy Story|01-Jan-1995||url|${flags}\n`)
    const genre = t.file('ml/u.genre', 'unknown|0\nAction\nAdventure|2\n')
    await expect(importDataset(s, { path: path.join(t.dir, 'ml'), format: 'movielens' })).rejects.toThrow(
      `${genre}, line 2: expected 'name|index', got 'Action'`,
    )
    fs.writeFileSync(genre, 'unknown|0\nAction|01\n')
    await expect(importDataset(s, { path: path.join(t.dir, 'ml'), format: 'movielens' })).rejects.toThrow(
      `${genre}, line 2, field 'index': genre index '01' is not an integer below 1000`,
    )
    s.close()
  })

  it('a RecBole split without its test file names the missing file', async () => {
    const s = openStore(path.join(t.dir, 'rb.db'))
    const h = 'user_id:token\titem_id:token\n'
    t.file('rb/ml.train.inter', h + '1\t1\n')
    t.file('rb/ml.valid.inter', h + '1\t2\n')
    await expect(importDataset(s, { path: path.join(t.dir, 'rb') })).rejects.toThrow(
      `${path.join(t.dir, 'rb')}: a provided split needs ml.train.inter, .valid.inter and .test.inter; missing ml.test.inter`,
    )
    s.close()
  })

  it('no ETA from the first rows of a phase', async () => {
    const seen: ImportProgress[] = []
    const p = new ProgressTracker((x) => seen.push(x), 'write', 1_000_000)
    p.update(43, 43, true)
    expect(seen[0].etaMs).toBeNull()
    await new Promise((r) => setTimeout(r, 20)) // a measurable rate
    p.update(100_000, 100_000, true)
    expect(seen[1].etaMs).not.toBeNull()
  })

  it('an upload folder left by a dead process is removed; a live process keeps its own', async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!
    const stale = fs.mkdtempSync(path.join(os.tmpdir(), `cllm4rec-uploads-${dead}-`))
    fs.writeFileSync(path.join(stale, 'big.csv'), 'x')
    const live = fs.mkdtempSync(path.join(os.tmpdir(), `cllm4rec-uploads-${process.ppid}-`))
    const files = new FileAccess()
    try {
      await files.saveUpload('a.csv', Buffer.from('user,item\n1,1\n'))
      expect(fs.existsSync(stale)).toBe(false)
      expect(fs.existsSync(live)).toBe(true)
    } finally {
      files.dispose()
      fs.rmSync(live, { recursive: true, force: true })
      fs.rmSync(stale, { recursive: true, force: true })
    }
  })
})
