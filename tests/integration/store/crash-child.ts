// Child process for the crash-safety test: imports a file and, once rows are being written inside the
// transaction, tells the parent and stalls so the parent can SIGKILL it mid-transaction.
import fs from 'node:fs'
import { openStore } from '../../../main/store/db'
import { importDataset } from '../../../main/store/import-dataset'

const [dbFile, input] = process.argv.slice(2)
const store = openStore(dbFile)
let writes = 0
await importDataset(store, {
  path: input,
  name: 'crashing',
  onProgress: (p) => {
    if (p.phase !== 'write' || p.rows === 0) return
    if (++writes === 2) {
      fs.writeSync(1, `WRITING ${p.rows}\n`)
      // Block (synchronously, inside the open transaction) until killed.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000)
    }
  },
})
fs.writeSync(1, 'COMMITTED\n')
