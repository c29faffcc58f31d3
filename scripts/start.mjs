// `npm start`: open the desktop app when the Electron binary is installed, otherwise say so and
// fall back to browser mode (npm drops the optional `electron` package when its download fails).
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'

const require = createRequire(import.meta.url)
let electronBinary = null
try {
  const candidate = require('electron')
  if (typeof candidate === 'string' && existsSync(candidate)) electronBinary = candidate
} catch {
  electronBinary = null
}

const run = (cmd, args, env = {}) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } })
  process.exit(r.status ?? 1)
}

if (electronBinary) {
  run('npx', ['electron-vite', 'preview'], { ELECTRON_MAJOR_VER: '39' })
} else {
  console.error(
    '[start] The Electron binary is not installed (its download failed or was skipped), so the desktop\n' +
      '[start] window cannot open here. Starting browser mode instead: open the printed URL in a browser.',
  )
  run('npm', ['run', '-s', 'serve'])
}
