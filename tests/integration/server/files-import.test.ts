// Files and imports over the real server: allow-listed data folders become FileRefs, uploads too; an
// Amazon file is previewed and imported in a worker thread with progress pushed over the WebSocket;
// a repeated import is refused; a MovieLens import is cancelled through its jobId and leaves nothing.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type {
  AppEvent,
  BackboneInfo,
  DatasetDetail,
  FileRef,
  ImportPreview,
  PromptPreset,
  TemplateCheck,
} from '../../../preload/api'
import { createApiApp, type ApiApp } from '../../../main/api/app'
import { NO_DIALOGS } from '../../../main/api/context'
import { TOKEN_HEADER } from '../../../main/server/protocol'
import { startServer, type RunningServer } from '../../../main/server/server'
import { apiCall } from './api-call'

const here = path.dirname(fileURLToPath(import.meta.url))
const DATA = path.resolve(here, '../../../../shared/data')
const BEAUTY = path.join(DATA, 'amazon-all-beauty-2018/original')
const ML = path.join(DATA, 'movielens-100k/original/ml-100k')

let tmp: string
let app: ApiApp
let srv: RunningServer
let ws: WebSocket
const events: AppEvent[] = []

const call = <T>(method: string, ...args: unknown[]): Promise<T> => apiCall<T>(srv, method, ...args)

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'wb-files-'))
  // Big enough (1.5M rows) that a cancel lands while the import is still parsing.
  mkdirSync(path.join(tmp, 'big'))
  const lines = ['user\titem']
  for (let k = 0; k < 1_500_000; k++) lines.push(`u${k % 50_000}\ti${(k * 7919) % 20_000}`)
  writeFileSync(path.join(tmp, 'big', 'big.tsv'), lines.join('\n') + '\n')
  app = createApiApp({
    mode: 'browser',
    version: '0.0.0-test',
    dbPath: path.join(tmp, 'wb.db'),
    dialogs: NO_DIALOGS,
    dataDirs: [BEAUTY, ML, path.join(tmp, 'big')],
    modelDirs: [DATA],
  })
  srv = await startServer({ handlers: app.handlers, bus: app.bus, files: app.files, distDir: tmp })
  ws = new WebSocket(`ws://127.0.0.1:${srv.port}/events?token=${srv.token}`)
  ws.on('message', (d) => events.push(JSON.parse(String(d)) as AppEvent))
  await new Promise((r) => ws.on('open', r))
})

afterAll(async () => {
  ws?.close()
  await srv?.close()
  await app?.close()
  rmSync(tmp, { recursive: true, force: true })
})

describe('files and imports', () => {
  it('lists allow-listed files as opaque FileRefs, never paths', async () => {
    const files = await call<FileRef[]>('listDataFiles')
    const names = files.map((f) => f.name)
    expect(names).toContain('All_Beauty_5.json.gz')
    expect(names).toContain('u.data')
    for (const f of files) {
      expect(f.fileRef).toMatch(/^f_[0-9a-f]{32}$/)
      expect(JSON.stringify(f)).not.toContain(DATA)
    }
  })

  it('previews and imports an Amazon file in a worker with progress over the WebSocket', async () => {
    const files = await call<FileRef[]>('listDataFiles')
    const gz = files.find((f) => f.name === 'All_Beauty_5.json.gz')!
    const prev = await call<ImportPreview>('previewImport', gz.fileRef)
    expect(prev.format).toBe('amazon')
    expect(prev.rows.length).toBeGreaterThan(0)
    const { jobId, datasetId } = await call<{ jobId: string; datasetId: number }>('importDataset', {
      fileRef: gz.fileRef,
      name: 'beauty',
      kcore: 0,
    })
    const d = await call<DatasetDetail>('getDataset', datasetId)
    expect(d.name).toBe('beauty')
    expect(d.users).toBeGreaterThan(900)
    expect(d.stats.textCoverage.reviews).toBeGreaterThan(0.5)
    expect(d.stats.textLength.counts.reduce((a, b) => a + b, 0)).toBeGreaterThan(1000)
    await new Promise((r) => setTimeout(r, 100))
    const progress = events.filter((e) => e.type === 'import.progress' && e.jobId === jobId)
    expect(progress.length).toBeGreaterThan(0)
    expect(progress.at(-1)).toMatchObject({ fraction: 1, message: 'done' })
    await expect(call('importDataset', { fileRef: gz.fileRef, name: 'beauty-again' })).rejects.toThrow(
      /409 .*already imported as dataset 'beauty'/,
    )
  })

  it('cancels a running import by jobId and stores nothing', async () => {
    const files = await call<FileRef[]>('listDataFiles')
    const big = files.find((f) => f.name === 'big.tsv')!
    const before = (await call<unknown[]>('listDatasets')).length
    const seen = events.length
    const running = call('importDataset', {
      fileRef: big.fileRef,
      format: 'csv',
      map: { user: 'user', item: 'item' },
      name: 'big',
    })
    let jobId: string | undefined
    const t0 = Date.now()
    while (!jobId && Date.now() - t0 < 30_000) {
      const e = events.slice(seen).find((x) => x.type === 'import.progress')
      if (e?.type === 'import.progress') jobId = e.jobId
      else await new Promise((r) => setTimeout(r, 5))
    }
    expect(jobId).toBeDefined()
    await call('cancelImport', jobId)
    await expect(running).rejects.toThrow(/409 import .* cancelled/)
    expect((await call<unknown[]>('listDatasets')).length).toBe(before)
    await expect(call('cancelImport', jobId)).rejects.toThrow(/404 no running import/)
  })

  it('imports an uploaded CSV with a column map', async () => {
    const csv =
      'uid,iid,stars\n' +
      Array.from({ length: 60 }, (_, k) => `u${k % 10},i${(k * 7) % 13},5`).join('\n') +
      '\n'
    const up = await fetch(`${srv.origin}/upload?name=small.csv`, {
      method: 'POST',
      headers: { [TOKEN_HEADER]: srv.token },
      body: csv,
    })
    const ref = (await up.json()) as FileRef
    const prev = await call<ImportPreview>('previewImport', ref.fileRef, 'csv')
    expect(prev.columns).toEqual(['uid', 'iid', 'stars'])
    const r = await call<{ datasetId: number }>('importDataset', {
      fileRef: ref.fileRef,
      format: 'csv',
      map: { user: 'uid', item: 'iid', rating: 'stars' },
      name: 'uploaded',
    })
    expect((await call<DatasetDetail>('getDataset', r.datasetId)).users).toBe(10)
    await expect(
      call('importDataset', {
        fileRef: ref.fileRef,
        format: 'csv',
        map: { user: 'nope', item: 'iid' },
        name: 'bad',
      }),
    ).rejects.toThrow(/400 .*nope/)
  })

  it('offers HF GPT-2 folders under --models as backbones and checks templates with their tokenizer', async () => {
    const backbones = await call<BackboneInfo[]>('listBackbones')
    expect(backbones[0]).toMatchObject({ id: 'scratch', kind: 'scratch' })
    const tiny = backbones.find((b) => b.label === 'tiny-gpt2')!
    expect(tiny).toMatchObject({ kind: 'hf', nEmbd: 2, nLayer: 2, vocabSize: 50257 })
    expect(tiny.id).toMatch(/^hf:[0-9a-f]{12}$/)
    expect(JSON.stringify(backbones)).not.toContain(DATA)
    const preset = (await call<PromptPreset[]>('listPromptPresets'))[0]
    const checks = await call<TemplateCheck[]>('checkTemplates', preset.templates, tiny.id)
    // GPT-2 BPE: "has interacted with" is three tokens.
    expect(checks.find((c) => c.kind === 'collaborative')).toEqual({
      kind: 'collaborative',
      ok: true,
      errors: [],
      hardTokenCount: 3,
    })
    const broken = await call<TemplateCheck[]>(
      'checkTemplates',
      { ...preset.templates, review: '{user} wrote' },
      tiny.id,
    )
    expect(broken.find((c) => c.kind === 'review')!.errors[0]).toMatch(/placeholder \{item\} is required/)
    await expect(call('checkTemplates', preset.templates, 'hf:000000000000')).rejects.toThrow(
      /404 unknown backbone/,
    )
  })
})
