// Builds the API for one host (Electron or browser mode): services adapter, file access, run queue,
// event bus and the handler table. Hosts add only their transport.
import type { ApiContext, Dialogs, Runs } from './context'
import { EventBus } from './events'
import { FileAccess, type FileAccessOptions } from './files'
import { createHandlers, type HandlerTable } from './handlers'
import { Services } from './services'
import { BreakdownServices } from './services-breakdown'
import { EngineServices } from './services-engine'
import { RunServices } from './services-runs'
import { ApiError } from './validate'

export interface ApiAppOptions extends FileAccessOptions {
  mode: 'electron' | 'browser'
  version: string
  dbPath: string
  dialogs: Dialogs
  /** Builds the run queue once services exist (main/worker/run-manager.ts). */
  createRuns?: (persistence: RunServices, bus: EventBus) => Runs
  /** Trainer for new runs (default 'cllm4rec'). */
  trainer?: string
  /** Heap cap (MiB) of the import / demo workers. */
  jobHeapMb?: number
}

export interface ApiApp {
  ctx: ApiContext
  handlers: HandlerTable
  bus: EventBus
  files: FileAccess
  services: Services
  runData: RunServices
  close(): Promise<void>
}

const NO_RUNS: Runs = {
  start: async () => {
    throw new ApiError('training is not available in this host', 503)
  },
  cancel: async () => {
    throw new ApiError('training is not available in this host', 503)
  },
  resume: async () => {
    throw new ApiError('training is not available in this host', 503)
  },
  delete: async () => {
    throw new ApiError('training is not available in this host', 503)
  },
  progress: () => undefined,
}

export function createApiApp(o: ApiAppOptions): ApiApp {
  const bus = new EventBus()
  const files = new FileAccess(o)
  const services = new Services({ dbPath: o.dbPath, bus, files, jobHeapMb: o.jobHeapMb })
  const runData = new RunServices(services, {
    version: o.version,
    trainer: o.trainer,
    backendLabel: () => services.knownBackend ?? 'auto',
  })
  const engine = new EngineServices(services, runData)
  const breakdowns = new BreakdownServices(services, runData)
  const runs = o.createRuns ? o.createRuns(runData, bus) : NO_RUNS
  const ctx: ApiContext = {
    mode: o.mode,
    version: o.version,
    bus,
    files,
    dialogs: o.dialogs,
    services,
    runData,
    engine,
    breakdowns,
    runs,
  }
  return {
    ctx,
    handlers: createHandlers(ctx),
    bus,
    files,
    services,
    runData,
    close: async () => {
      const closable = runs as Runs & { shutdown?: () => Promise<void> }
      await closable.shutdown?.()
      breakdowns.close()
      await engine.close()
      services.close()
      files.dispose()
    },
  }
}
