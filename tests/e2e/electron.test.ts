// Electron E2E. Where the Electron binary is installed: build, launch the real app with Playwright's
// _electron, and check the window is locked down (no Node in the page, window.api present and working
// in 'electron' mode, window.open and foreign navigation blocked). Where it is not (this CI image:
// npm drops the optional `electron` package when its download fails), the test says so loudly and
// checks the fallback instead: `npm start` (scripts/start.mjs) reports the missing binary and starts
// browser mode, whose printed URL serves the app.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

function electronBinary(): string | null {
  try {
    const p = createRequire(import.meta.url)('electron') as unknown
    return typeof p === 'string' && existsSync(p) ? p : null
  } catch {
    return null
  }
}

const binary = electronBinary()

describe('Electron app', () => {
  it(
    binary
      ? 'launches a locked-down window with a working window.api'
      : 'falls back to browser mode without the binary',
    async () => {
      const tmp = mkdtempSync(path.join(os.tmpdir(), 'wb-electron-e2e-'))
      try {
        if (binary) await electronRun(binary, tmp)
        else await fallbackRun(tmp)
      } finally {
        rmSync(tmp, { recursive: true, force: true })
      }
    },
  )
})

async function electronRun(executablePath: string, tmp: string): Promise<void> {
  const build = spawnSync('npm', ['run', '-s', 'build'], { cwd: repoRoot, encoding: 'utf8' })
  expect(build.status, build.stderr).toBe(0)
  const { _electron } = await import('playwright-core')
  const app = await _electron.launch({
    executablePath,
    args: [path.join(repoRoot, 'out/main/index.js')],
    env: { ...process.env, CLLM4REC_DB: path.join(tmp, 'wb.db') },
  })
  try {
    const page = await app.firstWindow()
    await page.waitForLoadState('domcontentloaded')
    expect(page.url()).toMatch(/^app:\/\/workbench\//)
    const probe = await page.evaluate(async () => {
      // Runs in the page; typed loosely because this file is compiled without the DOM library.
      const w = globalThis as unknown as Record<string, unknown> & { open(url: string): unknown }
      const api = w.api as { appInfo(): Promise<{ mode: string }>; getRun(id: unknown): Promise<unknown> }
      let validation = ''
      try {
        await api.getRun(0)
      } catch (err) {
        validation = String(err)
      }
      return {
        require: typeof w.require,
        process: typeof w.process,
        apiKeys: Object.keys(api).length,
        mode: (await api.appInfo()).mode,
        validation,
        opened: w.open('https://example.com') === null,
      }
    })
    expect(probe.require).toBe('undefined')
    expect(probe.process).toBe('undefined')
    expect(probe.apiKeys).toBeGreaterThan(30)
    expect(probe.mode).toBe('electron')
    expect(probe.validation).toMatch(/argument 'runId' must be a positive integer/)
    expect(probe.opened).toBe(true)
    await page.evaluate(() => {
      ;(globalThis as unknown as { location: { href: string } }).location.href = 'https://example.com/'
    })
    await new Promise((r) => setTimeout(r, 500))
    expect(page.url()).toMatch(/^app:\/\/workbench\//)
  } finally {
    await app.close()
  }
}

async function fallbackRun(tmp: string): Promise<void> {
  console.warn(
    'Electron binary not installed: Electron E2E did not run (checking the browser-mode fallback instead)',
  )
  // Own process group, so the whole npm -> tsx tree is stopped by this one id afterwards.
  const child = spawn(process.execPath, [path.join(repoRoot, 'scripts/start.mjs')], {
    cwd: repoRoot,
    env: { ...process.env, CLLM4REC_DB: path.join(tmp, 'wb.db') },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no URL within 150 s\nstdout: ${stdout}\nstderr: ${stderr}`)),
        150_000,
      )
      const check = (): void => {
        const m = /at (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64})/.exec(stdout)
        if (m) {
          clearTimeout(timer)
          resolve(m[1])
        }
      }
      child.stdout.on('data', check)
      child.on('exit', (code) =>
        reject(new Error(`start.mjs exited (${code})\nstdout: ${stdout}\nstderr: ${stderr}`)),
      )
    })
    expect(stderr).toMatch(/The Electron binary is not installed/)
    expect(stderr).toMatch(/Starting browser mode instead/)
    // The printed URL really serves the app: token -> cookie -> the renderer's page.
    const first = await fetch(url, { redirect: 'manual' })
    expect(first.status).toBe(302)
    const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0]
    const page = await fetch(new URL('/', url), { headers: { cookie } })
    expect(page.status).toBe(200)
    expect(await page.text()).toMatch(/<div id="app">|<script/)
    const info = await fetch(new URL('/api/appInfo', url), {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: '[]',
    })
    expect(((await info.json()) as { mode: string }).mode).toBe('browser')
  } finally {
    if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGTERM')
  }
}
