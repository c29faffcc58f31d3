// `sweep`: a grid of CLLM4Rec configs run through the app's own run path (store, worker, checkpoints,
// metric series), so every run is an ordinary workbench run, grouped as one sweep in Results. The
// selection uses validation only (the score the trainer selects epochs by); test metrics are printed for
// the selected config alone, labelled as such.
//   npm run -s cli -- sweep --dataset demo --grid lambdaC=1,10 --grid lrFinetune=1e-4,1e-3
//     [--preset paper|official|fast] [--epochs-scale x] [--seed N] [--budget-minutes N] [--name S] [--db F]
import type { AppEvent, Metrics, RunStatus } from '../../preload/api'
import { callApi, type HandlerTable } from '../api/handlers'
import { nestOverrides } from '../api/config-schema'
import { PRESET_NAMES, resolveConfig, type ConfigOverrides, type PresetName } from '../engine/cllm4rec/config'
import { selectionScore } from '../engine/eval/metrics'
import { createBrowserApp } from '../server/serve'
import { UsageError, type CommandTable } from './args'

export type GridValue = number | boolean | string | null
export interface GridAxis {
  key: string
  values: GridValue[]
}

const USAGE =
  'usage: sweep --dataset <demo|store name|id> --grid key=v1,v2 [--grid ...] [--preset paper|official|fast]\n' +
  '  [--epochs-scale x] [--seed N] [--budget-minutes N] [--name SWEEP] [--db FILE] [--json]'

function parseValue(raw: string): GridValue {
  const t = raw.trim()
  if (t === 'true' || t === 'false') return t === 'true'
  if (t === 'null') return null
  const n = Number(t)
  return t !== '' && Number.isFinite(n) ? n : t
}

/** `lambdaC=1,10,40` -> { key: 'lambdaC', values: [1, 10, 40] }; keys may be nested (`scratch.width`). */
export function parseGridAxis(spec: string): GridAxis {
  const eq = spec.indexOf('=')
  if (eq <= 0) throw new UsageError(`sweep: --grid "${spec}" must look like key=v1,v2`)
  const key = spec.slice(0, eq).trim()
  const values = spec
    .slice(eq + 1)
    .split(',')
    .map((v) => v.trim())
  if (values.some((v) => v === '')) throw new UsageError(`sweep: --grid ${key} has an empty value`)
  return { key, values: values.map(parseValue) }
}

/** Every combination of the axes' values, first axis slowest. */
export function gridPoints(axes: GridAxis[]): Record<string, GridValue>[] {
  let points: Record<string, GridValue>[] = [{}]
  for (const a of axes) points = points.flatMap((p) => a.values.map((v) => ({ ...p, [a.key]: v })))
  return points
}

export const pointLabel = (p: Record<string, GridValue>): string =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')

export interface SweepRow {
  point: Record<string, GridValue>
  runId: number | null
  status: RunStatus | 'skipped'
  val?: Metrics
  test?: Metrics
  minutes: number
}

/** Index of the best done row by the validation selection score; -1 when none validated. */
export function selectOnValidation(rows: SweepRow[]): number {
  let best = -1
  rows.forEach((r, i) => {
    if (r.status !== 'done' || !r.val) return
    if (best < 0 || selectionScore(r.val) > selectionScore(rows[best].val!)) best = i
  })
  return best
}

interface SweepFlags {
  dataset: string
  grid: string[]
  preset: PresetName
  epochsScale?: number
  seed: number
  budgetMinutes?: number
  name?: string
  db?: string
  json: boolean
}

function parseSweepFlags(argv: string[]): SweepFlags {
  const f: Partial<SweepFlags> & { grid: string[] } = { grid: [], preset: 'paper', seed: 1, json: false }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const value = (): string => {
      const v = argv[++i]
      if (v === undefined) throw new UsageError(`sweep: ${a} needs a value\n${USAGE}`)
      return v
    }
    const num = (min: number): number => {
      const raw = value()
      const n = Number(raw)
      if (raw.trim() === '' || !Number.isFinite(n) || n < min)
        throw new UsageError(`sweep: ${a} must be a number >= ${min}, got "${raw}"`)
      return n
    }
    if (a === '--dataset') f.dataset = value()
    else if (a === '--grid') f.grid.push(value())
    else if (a === '--preset') {
      const p = value()
      if (!PRESET_NAMES.includes(p as PresetName))
        throw new UsageError(`sweep: --preset must be one of ${PRESET_NAMES.join(', ')}, got "${p}"`)
      f.preset = p as PresetName
    } else if (a === '--epochs-scale') f.epochsScale = num(Number.MIN_VALUE)
    else if (a === '--seed') f.seed = num(0)
    else if (a === '--budget-minutes') f.budgetMinutes = num(Number.MIN_VALUE)
    else if (a === '--name') f.name = value()
    else if (a === '--db') f.db = value()
    else if (a === '--json') f.json = true
    else throw new UsageError(`sweep: unknown argument "${a}"\n${USAGE}`)
  }
  if (!f.dataset) throw new UsageError(`sweep: missing --dataset\n${USAGE}`)
  if (f.grid.length === 0) throw new UsageError(`sweep: give at least one --grid key=v1,v2\n${USAGE}`)
  return f as SweepFlags
}

/** Each point's overrides, resolved now so a bad key or value fails before anything runs. */
function checkedOverrides(f: SweepFlags, points: Record<string, GridValue>[]): Record<string, unknown>[] {
  return points.map((p) => {
    const flat: Record<string, unknown> = { ...p }
    if (f.epochsScale !== undefined && !('epochsScale' in p)) flat.epochsScale = f.epochsScale
    try {
      resolveConfig(f.preset, nestOverrides(flat) as ConfigOverrides)
    } catch (e) {
      throw new UsageError(`sweep: point "${pointLabel(p)}": ${(e as Error).message}`)
    }
    return flat
  })
}

async function findDataset(h: HandlerTable, spec: string): Promise<{ id: number; name: string }> {
  if (spec === 'demo')
    return callApi(h, 'createDemoDataset', [{ seed: 1 }]) as Promise<{ id: number; name: string }>
  const all = (await callApi(h, 'listDatasets', [])) as { id: number; name: string }[]
  const hit = all.find((d) => d.name === spec || String(d.id) === spec)
  if (!hit)
    throw new UsageError(
      `sweep: no dataset "${spec}" in the store (known: ${all.map((d) => d.name).join(', ') || 'none'}); ` +
        'import it first: npm run -s cli -- import <dir|file> [--format ...]',
    )
  return hit
}

function formatSweep(title: string, rows: SweepRow[], selected: number): string {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r.point)))]
  const cell = (s: string, w: number) => s.padStart(w)
  const widths = keys.map((k) => Math.max(k.length, ...rows.map((r) => String(r.point[k]).length)))
  const head = [
    '  run',
    ...keys.map((k, i) => cell(k, widths[i])),
    'val R@20',
    'val R@40',
    'val N@100',
    '   min',
    'status',
  ]
  const lines = rows.map((r, i) =>
    [
      `${i === selected ? '*' : ' '}${String(r.runId ?? '-').padStart(4)}`,
      ...keys.map((k, j) => cell(String(r.point[k]), widths[j])),
      ...(['recall20', 'recall40', 'ndcg100'] as const).map((m) =>
        cell(r.val ? r.val[m].toFixed(4) : '-', m === 'ndcg100' ? 9 : 8),
      ),
      cell(r.minutes.toFixed(1), 6),
      r.status,
    ].join('  '),
  )
  return [title, head.join('  '), ...lines].join('\n') + '\n'
}

async function sweep(argv: string[]): Promise<number> {
  const f = parseSweepFlags(argv)
  const points = gridPoints(f.grid.map(parseGridAxis))
  const overrides = checkedOverrides(f, points)
  const app = createBrowserApp({ db: f.db, data: [], models: [] })
  try {
    const ds = await findDataset(app.handlers, f.dataset)
    const sweepName = f.name ?? `sweep ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`
    const templates = resolveConfig(f.preset).prompts
    const deadline = f.budgetMinutes === undefined ? Infinity : Date.now() + f.budgetMinutes * 60_000
    const rows: SweepRow[] = []
    const waiter = new RunWaiter(app.bus)
    for (let i = 0; i < points.length; i++) {
      if (Date.now() >= deadline) {
        rows.push({ point: points[i], runId: null, status: 'skipped', minutes: 0 })
        continue
      }
      const t0 = Date.now()
      const { runId } = (await callApi(app.handlers, 'startRun', [
        {
          datasetId: ds.id,
          name: `${sweepName}: ${pointLabel(points[i])}`,
          preset: f.preset,
          overrides: overrides[i],
          templates,
          backboneId: 'scratch',
          seed: f.seed,
          sweep: sweepName,
        },
      ])) as { runId: number }
      process.stderr.write(`[sweep ${i + 1}/${points.length}] run ${runId}: ${pointLabel(points[i])}\n`)
      const status = await waiter.until(runId, deadline, () => callApi(app.handlers, 'cancelRun', [runId]))
      const detail = (await callApi(app.handlers, 'getRun', [runId])) as { val?: Metrics; test?: Metrics }
      rows.push({
        point: points[i],
        runId,
        status,
        val: detail.val,
        test: detail.test,
        minutes: (Date.now() - t0) / 60_000,
      })
    }
    const selected = selectOnValidation(rows)
    const title = `sweep "${sweepName}" on ${ds.name}, preset ${f.preset}${f.epochsScale !== undefined ? `, epochs scale ${f.epochsScale}` : ''}, seed ${f.seed}; selection: validation R@20 + R@40 + NDCG@100`
    if (f.json) {
      process.stdout.write(
        JSON.stringify({ sweep: sweepName, dataset: ds.name, preset: f.preset, rows, selected }) + '\n',
      )
    } else {
      process.stdout.write(formatSweep(title, rows, selected))
      const s = rows[selected]
      process.stdout.write(
        s?.test
          ? `selected (*) ${pointLabel(s.point)}: test R@20 ${s.test.recall20.toFixed(4)}, R@40 ${s.test.recall40.toFixed(4)}, NDCG@100 ${s.test.ndcg100.toFixed(4)} (run ${s.runId})\n`
          : 'no run finished with validation metrics: nothing selected\n',
      )
    }
    return selected >= 0 ? 0 : 1
  } finally {
    await app.close()
  }
}

const FINAL: RunStatus[] = ['done', 'failed', 'cancelled', 'interrupted']

/** Waits for runs to end on the app's event bus, cancelling one that outlives the sweep's budget. */
class RunWaiter {
  private readonly ended = new Map<number, RunStatus>()
  private readonly waiting = new Map<number, () => void>()
  private lastLine = 0

  constructor(bus: { on(fn: (e: AppEvent) => void): unknown }) {
    bus.on((e) => {
      if (e.type === 'run.progress' && Date.now() - this.lastLine > 2000) {
        this.lastLine = Date.now()
        process.stderr.write(
          `  run ${e.runId} ${e.stage} epoch ${e.epoch} ${(100 * e.fraction).toFixed(1)}% ETA ${Math.round(e.etaSec)} s\n`,
        )
      } else if (e.type === 'run.status' && FINAL.includes(e.status)) {
        if (e.error) process.stderr.write(`  run ${e.runId}: ${e.status} (${e.error})\n`)
        this.ended.set(e.runId, e.status)
        this.waiting.get(e.runId)?.()
      }
    })
  }

  async until(runId: number, deadline: number, cancel: () => Promise<unknown>): Promise<RunStatus> {
    if (!this.ended.has(runId)) {
      await new Promise<void>((resolve) => {
        this.waiting.set(runId, resolve)
        const ms = deadline - Date.now()
        if (Number.isFinite(ms)) {
          const t = setTimeout(
            () => {
              process.stderr.write(
                `  run ${runId}: over the sweep budget, cancelling (resumable in the app)\n`,
              )
              cancel().catch(() => {})
            },
            Math.max(0, ms),
          )
          this.waiting.set(runId, () => {
            clearTimeout(t)
            resolve()
          })
        }
      })
    }
    return this.ended.get(runId)!
  }
}

export const sweepCommands: CommandTable = {
  sweep: {
    help: 'run a grid of CLLM4Rec configs as one sweep in the store; select on validation',
    run: sweep,
  },
}
