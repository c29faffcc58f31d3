// Worker entry for the busy-database tests: one import into a real database through the store, with
// its write-phase progress and its commit reported to the parent.
import { parentPort, workerData } from 'node:worker_threads'
import { openStore } from '../../../main/store/db'
import { importDataset } from '../../../main/store/import-dataset'

const { dbFile, input, stagingId } = workerData as { dbFile: string; input: string; stagingId?: string }
const store = openStore(dbFile)
await importDataset(store, {
  path: input,
  name: 'big',
  stagingId,
  onProgress: (p) => p.phase === 'write' && p.rows > 0 && parentPort!.postMessage({ write: p.rows }),
})
// A timestamp, not just the message: a parent blocked on the lock would read the message late.
parentPort!.postMessage({ committedAt: Date.now() })
store.close()
