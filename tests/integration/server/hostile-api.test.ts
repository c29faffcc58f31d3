// Hostile work through the real browser-mode server: a zip bomb, a worker that runs out of memory and
// a demo dataset at the validator's limit. The server keeps answering, the database stays unchanged.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DatasetSummary, FileRef } from '../../../preload/api'
import { createApiApp, type ApiApp } from '../../../main/api/app'
import { NO_DIALOGS } from '../../../main/api/context'
import { startServer, type RunningServer } from '../../../main/server/server'
import { tempDir } from '../../unit/data/helpers'
import { csrMembers, metaPickle, npyHeaderOnly, zeroBomb, zip } from '../../unit/data/hostile-fixtures'
import { apiCall } from './api-call'

const t = tempDir('wb-hostile-api-')
let app: ApiApp
let srv: RunningServer
let dbFile: string

const call = <T>(method: string, ...args: unknown[]): Promise<T> => apiCall<T>(srv, method, ...args)

function dbBytes(): Buffer {
  app.services.db.db.pragma('wal_checkpoint(TRUNCATE)')
  return fs.readFileSync(dbFile)
}

beforeAll(async () => {
  const header = npyHeaderOnly('<f8', [134217728])
  const members = csrMembers().map((m) =>
    m.name === 'data.npy'
      ? { name: m.name, deflated: zeroBomb(1024, header), size: header.length + 2 ** 30 }
      : m,
  )
  t.file('data/bomb/meta.pkl', metaPickle(2, 3))
  t.file('data/bomb/train_matrix.npz', zip(members))
  t.file('data/bomb/val_matrix.npz', zip(csrMembers()))
  t.file('data/bomb/test_matrix.npz', zip(csrMembers()))
  // Many distinct ids: parsing this needs far more than the 64 MiB heap the job workers get below.
  const lines = ['user\titem']
  for (let k = 0; k < 600_000; k++) lines.push(`user-${k}-${'x'.repeat(20)}\titem-${k % 50_000}`)
  t.file('data/big/big.tsv', lines.join('\n') + '\n')
  // An allowed meta.pkl whose train_matrix.npz links to a file outside --data.
  t.file('outside/secret.npz', zip(csrMembers()))
  t.file('data/linked/meta.pkl', metaPickle(2, 3))
  for (const s of ['val', 'test']) t.file(`data/linked/${s}_matrix.npz`, zip(csrMembers()))
  fs.symlinkSync(path.join(t.dir, 'outside/secret.npz'), path.join(t.dir, 'data/linked/train_matrix.npz'))
  dbFile = path.join(t.dir, 'wb.db')
  app = createApiApp({
    mode: 'browser',
    version: '0.0.0-test',
    dbPath: dbFile,
    dialogs: NO_DIALOGS,
    dataDirs: [path.join(t.dir, 'data')],
    jobHeapMb: 64,
  })
  srv = await startServer({ handlers: app.handlers, bus: app.bus, files: app.files, distDir: t.dir })
})

afterAll(async () => {
  await srv?.close()
  await app?.close()
  t.cleanup()
})

const ref = async (name: string): Promise<FileRef> =>
  (await call<FileRef[]>('listDataFiles')).find((f) => f.name === name)!

describe('hostile work over the API', () => {
  it('a 1 MB zip bomb is a clear 400; the server answers and the database is unchanged', async () => {
    const before = dbBytes()
    const meta = await ref(path.join('bomb', 'meta.pkl'))
    await expect(call('importDataset', { fileRef: meta.fileRef, format: 'cllm4rec' })).rejects.toThrow(
      /^400 .*train_matrix\.npz, field 'data\.npy': zip member data\.npy declares \d+ bytes/,
    )
    expect(await call<DatasetSummary[]>('listDatasets')).toEqual([])
    expect(dbBytes().equals(before)).toBe(true)
  })

  it('a sibling symlink out of --data is refused over the API', async () => {
    const before = dbBytes()
    const meta = await ref(path.join('linked', 'meta.pkl'))
    await expect(call('importDataset', { fileRef: meta.fileRef })).rejects.toThrow(
      /^400 .*linked\/train_matrix\.npz: resolves to a file outside the allowed data folders/,
    )
    expect(dbBytes().equals(before)).toBe(true)
  })

  it('an import worker that runs out of memory fails that import only', async () => {
    const before = dbBytes()
    const big = await ref(path.join('big', 'big.tsv'))
    await expect(
      call('importDataset', { fileRef: big.fileRef, format: 'csv', map: { user: 'user', item: 'item' } }),
    ).rejects.toThrow(/^400 import of big\.tsv: its worker ran out of memory \(heap limit 64 MiB\)/)
    expect(await call<DatasetSummary[]>('listDatasets')).toEqual([])
    expect(dbBytes().equals(before)).toBe(true)
    // The next job gets a fresh worker.
    const demo = await call<DatasetSummary>('createDemoDataset', { seed: 3 })
    expect(demo.users).toBe(300)
  })

  it('createDemoDataset beyond what a call can do in seconds is refused before any work', async () => {
    const t0 = Date.now()
    await expect(call('createDemoDataset', { seed: 1, users: 100_000, items: 100_000 })).rejects.toThrow(
      /^400 arguments 'options\.users' x 'options\.items' must be at most 50000000/,
    )
    expect(Date.now() - t0).toBeLessThan(2000)
  })

  it('a large demo runs in a worker: the server answers while it is generated', async () => {
    const order: string[] = []
    const demo = call<DatasetSummary>('createDemoDataset', { seed: 2, users: 6000, items: 3000 }).then(
      (d) => (order.push('demo'), d),
    )
    await new Promise((r) => setTimeout(r, 300))
    await call('listDatasets').then(() => order.push('listDatasets'))
    expect((await demo).users).toBe(6000)
    expect(order).toEqual(['listDatasets', 'demo'])
  })
})
