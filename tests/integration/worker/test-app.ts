// The worker integration tests share this polling helper and throwaway API app instead of each repeating them.
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { AppEvent } from '../../../preload/api'
import { createApiApp, type ApiApp, type ApiAppOptions } from '../../../main/api/app'
import { NO_DIALOGS } from '../../../main/api/context'
import { createRunManager, type RunManager } from '../../../main/worker/run-manager'

/** The smallest scratch backbone and documents a CLLM4Rec test run trains with. */
export const TINY_BACKBONE = {
  batchSize: 16,
  maxLength: 64,
  'scratch.layers': 1,
  'scratch.width': 16,
  'scratch.heads': 1,
  'scratch.context': 64,
  'scratch.epochs': 1,
  'scratch.vocabSize': 300,
}

/** Polls `cond` every 20 ms until it holds; throws once `timeoutMs` has passed. */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now()
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for condition`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

export interface TestApp {
  app: ApiApp
  /** The app's run queue (created with the app). */
  runs: () => RunManager
  /** Every bus event since the app opened. */
  events: AppEvent[]
  tmp: string
  /** Closes the app and removes `tmp`. */
  close: () => Promise<void>
}

/** A browser-mode app on `wb.db` in a new temp dir, with the real run queue; `options` override the defaults. */
export function openTestApp(prefix: string, options: Partial<ApiAppOptions> = {}): TestApp {
  const tmp = mkdtempSync(path.join(os.tmpdir(), prefix))
  let runs: RunManager | undefined
  const app = createApiApp({
    mode: 'browser',
    version: '0.0.0-test',
    dbPath: path.join(tmp, 'wb.db'),
    dialogs: NO_DIALOGS,
    createRuns: (p, bus) => (runs = createRunManager(p, bus)),
    ...options,
  })
  const events: AppEvent[] = []
  app.bus.on((e) => events.push(e))
  const close = async () => {
    await app.close()
    rmSync(tmp, { recursive: true, force: true })
  }
  return { app, runs: () => runs!, events, tmp, close }
}
