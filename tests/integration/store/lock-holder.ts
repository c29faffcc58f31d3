// Worker entry for the busy-database tests: takes the write lock of a real database through the store
// (with the long-writer note, as an import does), says so, holds it for `holdMs`, then commits.
import { parentPort, workerData } from 'node:worker_threads'
import { openStore } from '../../../main/store/db'
import { withWriterNote } from '../../../main/store/busy'

const { dbFile, holdMs, what } = workerData as { dbFile: string; holdMs: number; what: string }
const store = openStore(dbFile)
withWriterNote(dbFile, what, () =>
  store.write(what, () => {
    store.db
      .prepare(
        "INSERT INTO prompt_templates (name, kind, template, created_at, updated_at) VALUES ('lock', 'k', 't', '', '')",
      )
      .run()
    parentPort!.postMessage('locked')
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, holdMs)
  }),
)
store.close()
parentPort!.postMessage('released')
