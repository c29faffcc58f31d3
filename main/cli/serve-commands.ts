// CLI commands on the same handler table as the app: `serve` (browser mode, as `npm run serve` minus
// the renderer build) and `api <method> [json-args]`, which calls any API method headlessly, e.g.
//   npm run -s cli -- api listDatasets
//   npm run -s cli -- api createDemoDataset '[{"seed":1}]'
//   npm run -s cli -- api startRun '[{...RunInput}]' --wait     (prints progress to stderr)
import type { AppEvent, RunStatus } from '../../preload/api'
import { callApi } from '../api/handlers'
import { isApiMethod } from '../api/methods'
import { createBrowserApp, runServe } from '../server/serve'
import { UsageError, type CommandTable } from './args'

const API_USAGE =
  'usage: api <method> [json-array-of-arguments] [--db FILE] [--data DIR] [--models DIR] [--wait]\n' +
  '  --wait  after startRun/resumeRun, stream progress to stderr and exit when the run ends'

const FINAL: RunStatus[] = ['done', 'failed', 'cancelled', 'interrupted']

async function api(argv: string[]): Promise<number> {
  const positional: string[] = []
  const flags: { db?: string; data: string[]; models: string[]; wait: boolean } = {
    data: [],
    models: [],
    wait: false,
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const value = (): string => {
      const v = argv[++i]
      if (v === undefined) throw new UsageError(`api: ${a} needs a value\n${API_USAGE}`)
      return v
    }
    if (a === '--db') flags.db = value()
    else if (a === '--data') flags.data.push(value())
    else if (a === '--models') flags.models.push(value())
    else if (a === '--wait') flags.wait = true
    else if (a.startsWith('--')) throw new UsageError(`api: unknown flag ${a}\n${API_USAGE}`)
    else positional.push(a)
  }
  const [method, json] = positional
  if (!method || positional.length > 2) throw new UsageError(API_USAGE)
  if (!isApiMethod(method)) throw new UsageError(`api: unknown method '${method}'`)
  let args: unknown
  try {
    args = json === undefined ? [] : JSON.parse(json)
  } catch {
    throw new UsageError(`api: arguments must be a JSON array, got ${json}`)
  }
  const app = createBrowserApp(flags)
  try {
    const ended = new Map<number, RunStatus>()
    const waiters = new Map<number, () => void>()
    let lastLine = 0
    app.bus.on((e: AppEvent) => {
      if (e.type === 'run.progress' && Date.now() - lastLine > 1000) {
        lastLine = Date.now()
        process.stderr.write(
          `run ${e.runId} ${e.stage} epoch ${e.epoch} step ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(4)} ` +
            `${(100 * e.fraction).toFixed(1)}% ETA ${Math.round(e.etaSec)} s\n`,
        )
      } else if (e.type === 'run.status') {
        process.stderr.write(`run ${e.runId}: ${e.status}${e.error ? ` (${e.error})` : ''}\n`)
        if (FINAL.includes(e.status)) {
          ended.set(e.runId, e.status)
          waiters.get(e.runId)?.()
        }
      } else if (e.type === 'import.progress' && Date.now() - lastLine > 1000) {
        lastLine = Date.now()
        process.stderr.write(`import ${(100 * e.fraction).toFixed(1)}%: ${e.message}\n`)
      }
    })
    const result = await callApi(app.handlers, method, args)
    process.stdout.write(JSON.stringify(result ?? null, null, 2) + '\n')
    const runId =
      method === 'startRun'
        ? (result as { runId: number }).runId
        : method === 'resumeRun'
          ? (args as number[])[0]
          : 0
    if (flags.wait && runId) {
      if (!ended.has(runId)) await new Promise<void>((r) => waiters.set(runId, r))
      return ended.get(runId) === 'done' ? 0 : 1
    }
    return 0
  } finally {
    await app.close()
  }
}

export const serveCommands: CommandTable = {
  serve: {
    help: 'browser mode on 127.0.0.1 (flags: --port --data --models --db --url-file --upload-limit-mb)',
    run: async (argv) => {
      await runServe(argv)
      // Keep running until SIGINT/SIGTERM (the server handles them).
      return new Promise<number>(() => {})
    },
  },
  api: { help: 'call any API method headlessly: api <method> [json-args] [--wait]', run: api },
}
