// Loads the compiled addon. CLLM4REC_NATIVE_PATH names another .node file (tests use it to make loading
// fail on purpose); otherwise the node-gyp output folders are tried, Release first.
'use strict'
const path = require('node:path')

function load() {
  const override = process.env.CLLM4REC_NATIVE_PATH
  if (override) return require(path.resolve(override))
  const errors = []
  for (const dir of ['Release', 'Debug']) {
    const file = path.join(__dirname, 'build', dir, 'cllm4rec_native.node')
    try {
      return require(file)
    } catch (err) {
      errors.push(`${file}: ${err.code === 'MODULE_NOT_FOUND' ? 'not built' : err.message}`)
    }
  }
  throw new Error(`@cllm4rec/native is not built (${errors.join('; ')})`)
}

module.exports = load()
