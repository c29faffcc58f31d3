// Browser-mode security with the real server on a random port: token on every request and WebSocket,
// Host/Origin pinning (DNS rebinding), loopback-only binding and peers, no path traversal or directory
// listing, strict CSP, and argument validation errors as 400s with clear messages.
import { mkdtempSync, mkdirSync, writeFileSync, readdirSync, rmSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import type { IncomingMessage } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createApiApp, type ApiApp } from '../../../main/api/app'
import { NO_DIALOGS } from '../../../main/api/context'
import { TOKEN_HEADER, tokenCookieName } from '../../../main/server/protocol'
import {
  assertLoopbackBind,
  checkRequest,
  isAllowedHost,
  isAllowedOrigin,
  isLoopbackAddress,
} from '../../../main/server/security'
import { startServer, type RunningServer } from '../../../main/server/server'

interface Reply {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
}

/** Raw HTTP so the path (with ../) and the Host header go out exactly as written. */
function raw(
  port: number,
  o: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: o.method ?? 'GET', path: o.path, headers: o.headers },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        )
      },
    )
    req.on('error', reject)
    req.end(o.body)
  })
}

let tmp: string
let app: ApiApp
let srv: RunningServer
let auth: Record<string, string>

const call = (method: string, args: unknown, headers: Record<string, string> = auth): Promise<Reply> =>
  raw(srv.port, {
    method: 'POST',
    path: `/api/${method}`,
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof args === 'string' ? args : JSON.stringify(args),
  })

function wsStatus(url: string, headers: Record<string, string> = {}): Promise<number | 'open'> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers })
    ws.on('open', () => {
      ws.close()
      resolve('open')
    })
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
    ws.on('error', () => resolve(0))
  })
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'wb-security-'))
  const dist = path.join(tmp, 'dist')
  mkdirSync(path.join(dist, 'assets'), { recursive: true })
  writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>workbench</title>')
  writeFileSync(path.join(dist, 'assets', 'app.js'), 'console.log(1)')
  writeFileSync(path.join(tmp, 'secret.txt'), 'TOP-SECRET')
  app = createApiApp({
    mode: 'browser',
    version: '0.0.0-test',
    dbPath: path.join(tmp, 'wb.db'),
    dialogs: NO_DIALOGS,
    uploadLimit: 1000,
  })
  srv = await startServer({ handlers: app.handlers, bus: app.bus, files: app.files, distDir: dist })
  auth = { [TOKEN_HEADER]: srv.token }
})

afterAll(async () => {
  await srv?.close()
  await app?.close()
  rmSync(tmp, { recursive: true, force: true })
})

describe('binding', () => {
  it('listens on 127.0.0.1 only, with a random port and a long random token', () => {
    expect(srv.address).toBe('127.0.0.1')
    expect(srv.port).toBeGreaterThan(0)
    expect(srv.token).toMatch(/^[0-9a-f]{64}$/)
    expect(srv.url).toBe(`http://127.0.0.1:${srv.port}/?token=${srv.token}`)
  })

  it('refuses to bind to anything but loopback', async () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com']) {
      expect(() => assertLoopbackBind(host)).toThrow(/binds to 127.0.0.1 only/)
    }
    await expect(
      startServer({ handlers: app.handlers, bus: app.bus, files: app.files, distDir: tmp, host: '0.0.0.0' }),
    ).rejects.toThrow(/refusing to listen on '0.0.0.0'/)
  })

  it('classifies peer addresses: only loopback is accepted', () => {
    for (const a of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'])
      expect(isLoopbackAddress(a)).toBe(true)
    for (const a of [
      '10.0.0.1',
      '192.168.1.2',
      '::ffff:192.168.1.2',
      'fe80::1',
      '128.0.0.1',
      '',
      undefined,
    ]) {
      expect(isLoopbackAddress(a)).toBe(false)
    }
  })

  it('rejects a request from a remote address even with the right token and Host', () => {
    const fake = {
      socket: { remoteAddress: '192.168.1.77' },
      headers: { host: `127.0.0.1:${srv.port}`, [TOKEN_HEADER]: srv.token },
    } as unknown as IncomingMessage
    const verdict = checkRequest(fake, new URL('http://127.0.0.1/'), srv.port, srv.token, false)
    expect(verdict).toEqual({ ok: false, status: 403, reason: 'remote address' })
    const local = { ...fake, socket: { remoteAddress: '127.0.0.1' } } as unknown as IncomingMessage
    expect(checkRequest(local, new URL('http://127.0.0.1/'), srv.port, srv.token, false)).toEqual({
      ok: true,
    })
  })
})

describe('token', () => {
  it('API calls need the token: missing -> 401, wrong -> 403, right -> 200', async () => {
    expect((await call('appInfo', [], {})).status).toBe(401)
    expect((await call('appInfo', [], { [TOKEN_HEADER]: 'f'.repeat(64) })).status).toBe(403)
    expect((await call('appInfo', [], { [TOKEN_HEADER]: 'short' })).status).toBe(403)
    const ok = await call('appInfo', [])
    expect(ok.status).toBe(200)
    expect(JSON.parse(ok.body)).toMatchObject({ mode: 'browser', version: '0.0.0-test' })
  })

  it('the page needs the token; ?token= trades it for an HttpOnly SameSite cookie', async () => {
    expect((await raw(srv.port, { path: '/' })).status).toBe(401)
    expect((await raw(srv.port, { path: '/?token=nope' })).status).toBe(403)
    const first = await raw(srv.port, { path: `/?token=${srv.token}` })
    expect(first.status).toBe(302)
    expect(first.headers.location).toBe('/')
    const cookie = String(first.headers['set-cookie'])
    expect(cookie).toContain(`${tokenCookieName(srv.port)}=${srv.token}`)
    expect(cookie).toMatch(/HttpOnly/)
    expect(cookie).toMatch(/SameSite=Strict/)
    // Browsers share cookies across ports: another workbench on another port must not count.
    const other = await raw(srv.port, {
      path: '/',
      headers: { cookie: `${tokenCookieName(srv.port + 1)}=${srv.token}` },
    })
    expect(other.status).toBe(401)
    const page = await raw(srv.port, {
      path: '/',
      headers: { cookie: `${tokenCookieName(srv.port)}=${srv.token}` },
    })
    expect(page.status).toBe(200)
    expect(page.body).toContain('<title>workbench</title>')
    const csp = String(page.headers['content-security-policy'])
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("object-src 'none'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).not.toContain('unsafe-eval')
    // The query token is accepted for the page only, not for API calls or assets.
    expect((await raw(srv.port, { path: `/assets/app.js?token=${srv.token}` })).status).toBe(401)
    expect((await raw(srv.port, { method: 'POST', path: `/api/appInfo?token=${srv.token}` })).status).toBe(
      401,
    )
  })

  it('WebSocket /events needs the token and then delivers events', async () => {
    const base = `ws://127.0.0.1:${srv.port}/events`
    expect(await wsStatus(base)).toBe(401)
    expect(await wsStatus(`${base}?token=${'0'.repeat(64)}`)).toBe(403)
    expect(await wsStatus(`${base}?token=${srv.token}`, { origin: 'http://evil.com' })).toBe(403)
    expect(await wsStatus(`ws://127.0.0.1:${srv.port}/other?token=${srv.token}`)).toBe(404)
    const ws = new WebSocket(base, { headers: { cookie: `${tokenCookieName(srv.port)}=${srv.token}` } })
    await new Promise((r) => ws.on('open', r))
    const got = new Promise<unknown>((r) => ws.on('message', (d) => r(JSON.parse(String(d)))))
    app.bus.emit({ type: 'run.status', runId: 5, status: 'queued' })
    expect(await got).toEqual({ type: 'run.status', runId: 5, status: 'queued' })
    ws.close()
  })
})

describe('DNS rebinding', () => {
  it('a wrong Host header is refused even with the token', async () => {
    for (const host of [
      `evil.com:${srv.port}`,
      'evil.com',
      `127.0.0.1:${srv.port + 1}`,
      `0.0.0.0:${srv.port}`,
    ]) {
      expect((await call('appInfo', [], { ...auth, host })).status).toBe(403)
    }
    expect((await call('appInfo', [], { ...auth, host: `localhost:${srv.port}` })).status).toBe(200)
    expect(isAllowedHost(undefined, srv.port)).toBe(false)
  })

  it('a foreign Origin is refused; our own Origin is accepted', async () => {
    expect((await call('appInfo', [], { ...auth, origin: 'http://evil.com' })).status).toBe(403)
    expect((await call('appInfo', [], { ...auth, origin: `http://evil.com:${srv.port}` })).status).toBe(403)
    expect((await call('appInfo', [], { ...auth, origin: 'null' })).status).toBe(403)
    expect((await call('appInfo', [], { ...auth, origin: `http://127.0.0.1:${srv.port}` })).status).toBe(200)
    expect(isAllowedOrigin(`https://127.0.0.1:${srv.port}`, srv.port)).toBe(false)
  })
})

describe('static files', () => {
  it('blocks path traversal in every spelling', async () => {
    const cookie = { cookie: `${tokenCookieName(srv.port)}=${srv.token}` }
    for (const p of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/assets/..%5c..%5csecret.txt',
      '/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/assets/%00app.js',
      '/.%2e/secret.txt',
    ]) {
      const r = await raw(srv.port, { path: p, headers: cookie })
      expect(r.status, p).toBe(404)
      expect(r.body).not.toContain('TOP-SECRET')
    }
    expect((await raw(srv.port, { path: '/assets/app.js', headers: cookie })).status).toBe(200)
  })

  it('has no directory listing', async () => {
    const cookie = { cookie: `${tokenCookieName(srv.port)}=${srv.token}` }
    const r = await raw(srv.port, { path: '/assets/', headers: cookie })
    expect(r.status).toBe(404)
    expect(r.body).not.toContain('app.js')
  })
})

describe('API errors', () => {
  it('argument validation errors are 400 with the argument named', async () => {
    const r = await call('getRun', [0])
    expect(r.status).toBe(400)
    expect(JSON.parse(r.body)).toEqual({ error: "argument 'runId' must be a positive integer" })
    const s = await call('listUsers', [1, 5, 10])
    expect(s.status).toBe(400)
    expect(JSON.parse(s.body).error).toBe("argument 'query' must be a string")
    const t = await call('startRun', [{ datasetId: 1, preset: 'turbo' }])
    expect(JSON.parse(t.body).error).toMatch(
      /argument 'input.preset' must be one of 'paper', 'official', 'fast'/,
    )
    const u = await call('createDemoDataset', [{ seed: 1, color: 'red' }])
    expect(JSON.parse(u.body).error).toBe("argument 'options' has unknown field 'color'")
    expect(JSON.parse((await call('appInfo', [1])).body).error).toMatch(/takes at most 0 argument/)
  })

  it('rejects unknown methods, bad JSON, non-array arguments and wrong content types', async () => {
    const unknown = await call('deleteEverything', [])
    expect(unknown.status).toBe(404)
    expect(JSON.parse(unknown.body).error).toBe("unknown API method 'deleteEverything'")
    expect((await call('__proto__', [])).status).toBe(404)
    expect((await call('toString', [])).status).toBe(404)
    expect((await call('appInfo', '{not json')).status).toBe(400)
    expect(JSON.parse((await call('getRun', { runId: 1 })).body).error).toMatch(/must be a JSON array/)
    const form = await raw(srv.port, {
      method: 'POST',
      path: '/api/appInfo',
      headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    })
    expect(form.status).toBe(415)
    expect((await raw(srv.port, { path: '/api/appInfo', headers: auth })).status).toBe(405)
  })

  it('uploads land in a private temp dir under a sanitised name and respect the size limit', async () => {
    const up = await raw(srv.port, {
      method: 'POST',
      path: '/upload?name=..%2F..%2Fevil.csv',
      headers: auth,
      body: 'u,i\n1,2\n',
    })
    expect(up.status).toBe(200)
    const ref = JSON.parse(up.body)
    expect(ref).toMatchObject({ name: 'evil.csv', size: 8 })
    expect(ref.fileRef).toMatch(/^f_[0-9a-f]{32}$/)
    expect(readdirSync(tmp)).not.toContain('evil.csv')
    const big = await raw(srv.port, {
      method: 'POST',
      path: '/upload?name=big.csv',
      headers: auth,
      body: Buffer.alloc(5000),
    })
    expect(big.status).toBe(413)
    expect((await raw(srv.port, { method: 'POST', path: '/upload?name=x.csv', body: 'a' })).status).toBe(401)
    // A fileRef is an opaque token: a path in its place is not a file.
    const p = await call('previewImport', ['/etc/passwd'])
    expect(p.status).toBe(404)
    expect(JSON.parse(p.body).error).toMatch(/unknown fileRef/)
  })
})
