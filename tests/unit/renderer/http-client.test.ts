// The renderer's browser-mode client against the real server and handler table (temp SQLite):
// calls, error messages, uploads, the token, and AppEvents over the WebSocket.
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { WebSocket as WsClient } from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppEvent, WorkbenchApi } from '../../../preload/api'
import { ApiError, createHttpClient } from '../../../renderer/src/api/http-client'
import { createApiApp, type ApiApp } from '../../../main/api/app'
import { NO_DIALOGS } from '../../../main/api/context'
import { startServer, type RunningServer } from '../../../main/server/server'
import { TOKEN_HEADER, TOKEN_QUERY } from '../../../main/server/protocol'

// Node 20 has fetch but no global WebSocket; the ws client has the same on* properties.
;(globalThis as { WebSocket?: unknown }).WebSocket ??= WsClient

let dir: string
let app: ApiApp
let server: RunningServer
let client: WorkbenchApi

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cllm4rec-http-client-'))
  app = createApiApp({
    mode: 'browser',
    version: 'test',
    dbPath: path.join(dir, 'workbench.db'),
    dialogs: NO_DIALOGS,
  })
  server = await startServer({ handlers: app.handlers, bus: app.bus, files: app.files, distDir: dir })
  client = createHttpClient({
    baseUrl: server.origin,
    token: server.token,
    tokenHeader: TOKEN_HEADER,
    tokenQuery: TOKEN_QUERY,
  })
})

afterAll(async () => {
  await server?.close()
  await app?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('http client', () => {
  it('calls methods with positional arguments and returns their JSON results', async () => {
    expect(await client.listDatasets()).toEqual([])
    const demo = await client.createDemoDataset({ seed: 3, users: 30, items: 40 })
    expect(demo.synthetic).toBe(true)
    expect((await client.listUsers(demo.id, '', 5)).length).toBe(5)
  })

  it("surfaces the server's error text as an ApiError with the status", async () => {
    const err = await client.getDataset(987654).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).status).toBeGreaterThanOrEqual(400)
    expect((err as ApiError).message).toMatch(/987654/)
    const bad = await client.listUsers(1, '', -1).catch((e: unknown) => e)
    expect((bad as ApiError).message).toMatch(/limit/)
  })

  it('uploads raw bytes and gets a FileRef back', async () => {
    const bytes = new TextEncoder().encode('user,item\nu1,i1\n')
    const ref = await client.uploadFile('tiny.csv', bytes.buffer)
    expect(ref.name).toBe('tiny.csv')
    expect(ref.size).toBe(bytes.length)
    const preview = await client.previewImport(ref.fileRef)
    expect(preview.columns).toEqual(['user', 'item'])
  })

  it('is refused without the right token', async () => {
    const wrong = createHttpClient({
      baseUrl: server.origin,
      token: 'nope',
      tokenHeader: TOKEN_HEADER,
      tokenQuery: TOKEN_QUERY,
    })
    const err = await wrong.listDatasets().catch((e: unknown) => e)
    expect((err as ApiError).status).toBe(403)
  })

  it('delivers AppEvents to every listener and stops after unsubscribe', async () => {
    const a: AppEvent[] = []
    const b: AppEvent[] = []
    const offA = client.onEvent((e) => a.push(e))
    const offB = client.onEvent((e) => b.push(e))
    const event: AppEvent = { type: 'run.status', runId: 7, status: 'done' }
    // The socket connects asynchronously: emit until the first delivery arrives.
    for (let i = 0; i < 50 && a.length === 0; i++) {
      app.bus.emit(event)
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(a[0]).toEqual(event)
    expect(b[0]).toEqual(event)
    offA()
    const before = a.length
    app.bus.emit(event)
    await new Promise((r) => setTimeout(r, 200))
    expect(a.length).toBe(before)
    expect(b.length).toBeGreaterThan(before - 1)
    offB()
  })
})
