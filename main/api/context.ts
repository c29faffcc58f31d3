// What the handler table needs from its host: the adapter to store/engine (services), file access,
// native dialogs (Electron only), the run queue and the event bus. Hosts build one ApiContext.
import type * as A from '../../preload/api'
import type { EventBus } from './events'
import type { FileAccess } from './files'

/** Native pickers; browser mode has none (the renderer uploads instead) and returns null. */
export interface Dialogs {
  pickFile(): Promise<string | null>
  pickFolder(): Promise<string | null>
}

export const NO_DIALOGS: Dialogs = {
  pickFile: async () => null,
  pickFolder: async () => null,
}

/** The run queue (main/worker/run-manager.ts). */
export interface Runs {
  start(input: A.RunInput): Promise<number>
  cancel(runId: number): Promise<void>
  resume(runId: number): Promise<void>
  delete(runId: number): Promise<void>
  progress(runId: number): A.RunProgress | undefined
}

export interface ApiContext {
  mode: 'electron' | 'browser'
  version: string
  bus: EventBus
  files: FileAccess
  dialogs: Dialogs
  services: import('./services').Services
  runData: import('./services-runs').RunServices
  engine: import('./services-engine').EngineServices
  breakdowns: import('./services-breakdown').BreakdownServices
  runs: Runs
}
