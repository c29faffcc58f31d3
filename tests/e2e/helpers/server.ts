// Starts the real browser-mode server (main/server/serve.ts) on a random port with a throw-away SQLite
// database, and waits for the URL (with its token) it writes to --url-file.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

export interface TestServer {
  url: string
  origin: string
  dir: string
  log: () => string
  stop: () => Promise<void>
}

/** `npm run build:web` once per suite, so the server serves the renderer under test. */
export function buildWeb(): void {
  const r = spawnSync('npm', ['run', '-s', 'build:web'], { cwd: repoRoot, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`build:web failed:\n${r.stdout}\n${r.stderr}`)
}

export async function startTestServer(timeoutMs = 60_000): Promise<TestServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cllm4rec-e2e-'))
  const urlFile = path.join(dir, 'url.txt')
  let output = ''
  // node --import tsx keeps it one process, so stop() reaches the server itself.
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'main/server/serve.ts', '--port', '0', '--url-file', urlFile],
    {
      cwd: repoRoot,
      env: { ...process.env, CLLM4REC_DB: path.join(dir, 'workbench.db') },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  child.stdout?.on('data', (b: Buffer) => (output += b.toString()))
  child.stderr?.on('data', (b: Buffer) => (output += b.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))

  const deadline = Date.now() + timeoutMs
  while (!existsSync(urlFile)) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${output}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`server did not start in ${timeoutMs} ms:\n${output}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  const url = readFileSync(urlFile, 'utf8').trim()
  return {
    url,
    origin: new URL(url).origin,
    dir,
    log: () => output,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000)
        await exited
        clearTimeout(t)
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
