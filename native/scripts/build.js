// Install step: builds the addon with node-gyp where a BLAS is expected (Linux: OpenBLAS, macOS:
// Accelerate). Elsewhere it builds nothing. It always exits 0 (npm would drop a failed optional package):
// keeping the package lets the loader say why the addon is missing, and the app runs on plain wasm.
'use strict'
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

if (process.platform !== 'linux' && process.platform !== 'darwin') {
  console.log(`@cllm4rec/native: no BLAS build for ${process.platform}; the workbench uses plain wasm`)
  process.exit(0)
}

const args = ['rebuild', '--release']
// Distribution Node packages ship headers beside the binary (<prefix>/include/node); using them avoids
// node-gyp's header download, which fails offline.
const prefix = path.resolve(path.dirname(process.execPath), '..')
if (!process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include/node/node_api.h'))) {
  args.push(`--nodedir=${prefix}`)
}
// npm hands lifecycle scripts the path of its bundled node-gyp; run by hand, look for npm's copy beside
// this Node, then fall back to one on PATH.
const bundled = path.join(prefix, 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js')
const gyp = process.env.npm_config_node_gyp || (fs.existsSync(bundled) ? bundled : undefined)
const r = gyp
  ? spawnSync(process.execPath, [gyp, ...args], { stdio: 'inherit', cwd: path.join(__dirname, '..') })
  : spawnSync('node-gyp', args, { stdio: 'inherit', cwd: path.join(__dirname, '..'), shell: true })
if (r.status !== 0) {
  console.error('@cllm4rec/native: build failed (needs a C compiler and libopenblas-dev); using plain wasm')
  process.exit(0)
}
