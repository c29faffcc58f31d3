// CLI commands for CLLM4Rec: `train` (CLLM4Rec + baselines on one split, progress/ETA on stderr, a table
// or one JSON object on stdout), `baselines`, and `recommend` from a run folder.
import fs from 'node:fs'
import path from 'node:path'
import { readCllm4recSplit } from '../data/cllm4rec-split'
import { generateDemoDataset } from '../data/demo'
import type { RecDataset } from '../data/types'
import { PRESET_NAMES, resolveConfig, type ConfigOverrides, type PresetName } from '../engine/cllm4rec/config'
import {
  openRun,
  runBaselines,
  runExperiment,
  protocolLabel,
  type ResultRow,
} from '../engine/train/experiment'
import { MULT_VAE_EPOCHS } from '../engine/baselines/mult-vae-epochs'
import type { Cllm4recSession } from '../engine/cllm4rec/session'
import type { ProgressEvent } from '../engine/train/progress'
import { loadDataset, listDatasets, openStore, resolveDbPath } from '../store'
import { parseArgs, UsageError, type CommandTable, type FlagSpecs } from './args'
import { BACKEND_FLAG, startBackend } from './gpt2-commands'
import { applyBackboneTexts, BACKBONE_TEXTS_FLAG, datasetTextLines, writeLinesAtomic } from './backbone-texts'

/** Where a resolver may look besides the spec itself. */
export interface ResolveContext {
  /** Workbench database (--db); else CLLM4REC_DB, else the default app-data path. */
  db?: string
}

export type DatasetResolver = (spec: string, ctx: ResolveContext) => Promise<RecDataset | null>

/**
 * `--dataset <name|id>` from the workbench's SQLite store, for any spec that is neither 'demo' nor a
 * directory. It lives here, not in main/engine (which must not import the store).
 */
export const storeResolver: DatasetResolver = async (spec, ctx) => {
  if (spec === 'demo' || (fs.existsSync(spec) && fs.statSync(spec).isDirectory())) return null
  const file = resolveDbPath(ctx.db)
  if (!fs.existsSync(file))
    throw new UsageError(
      `--dataset "${spec}": not "demo" nor a folder, and there is no workbench database at ${file} (give --db FILE or set CLLM4REC_DB)`,
    )
  const store = openStore(file)
  try {
    const rows = listDatasets(store)
    const row =
      rows.find((r) => r.name === spec) ??
      (/^\d+$/.test(spec) ? rows.find((r) => r.id === Number(spec)) : undefined)
    if (!row) {
      const names = rows.map((r) => `${r.name} (id ${r.id})`).join(', ')
      throw new UsageError(
        `--dataset "${spec}": no dataset of that name or id in ${file}; available: ${names || 'none (import one first)'}`,
      )
    }
    return loadDataset(store, row.id)
  } finally {
    store.close()
  }
}

/** Dataset resolvers, tried in order: the demo, a converted CLLM4Rec split folder, the store. */
export const datasetResolvers: DatasetResolver[] = [
  async (spec) => (spec === 'demo' ? generateDemoDataset({ seed: 1 }) : null),
  async (spec) => {
    const dir = path.resolve(spec)
    const conv =
      fs.existsSync(path.join(dir, 'converted', 'meta.json')) || fs.existsSync(path.join(dir, 'meta.json'))
    return conv ? readCllm4recSplit(dir) : null
  },
  storeResolver,
]

/** `demo`, a converted CLLM4Rec split folder, a store dataset name/id, or what a registered resolver accepts. */
export async function resolveDataset(spec: string, ctx: ResolveContext = {}): Promise<RecDataset> {
  for (const r of datasetResolvers) {
    const d = await r(spec, ctx)
    if (d) return d
  }
  throw new UsageError(`--dataset "${spec}": a folder, but not a converted CLLM4Rec split folder`)
}

function fmtEta(s: number): string {
  if (!Number.isFinite(s)) return '?'
  const m = Math.floor(s / 60)
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`
}

/**
 * One progress line: the stage's epoch and step, then how far the whole run is and its ETA, labelled as
 * the run's (during the backbone build it covers the run after it too).
 */
export function progressLine(e: ProgressEvent): string {
  const tps = Number.isFinite(e.tokensPerSec) ? ` ${Math.round(e.tokensPerSec)} tok/s` : ''
  const done = e.fraction !== undefined ? ` ${Math.floor(e.fraction * 100)}%` : ''
  return `[${e.stage} ep ${e.epoch}] ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(4)}${tps} · run${done} ETA ${fmtEta(e.etaSec)}`
}

/** Throttled one-line progress on stderr. */
export function stderrProgress(): (e: ProgressEvent) => void {
  let last = 0
  return (e) => {
    const now = Date.now()
    if (now - last < 1000 && e.step !== e.totalSteps) return
    last = now
    process.stderr.write(progressLine(e) + '\n')
  }
}

export function formatTable(rows: ResultRow[], title: string): string {
  const head = `${'model'.padEnd(12)} ${'Recall@20'.padStart(9)} ${'Recall@40'.padStart(9)} ${'NDCG@100'.padStart(9)} ${'time'.padStart(8)}  note`
  const lines = rows.map(
    (r) =>
      `${r.model.padEnd(12)} ${r.recall20.toFixed(4).padStart(9)} ${r.recall40.toFixed(4).padStart(9)} ${r.ndcg100.toFixed(4).padStart(9)} ${(r.seconds.toFixed(1) + 's').padStart(8)}  ${r.note}`,
  )
  return [title, head, ...lines, ...ratioLines(rows)].join('\n') + '\n'
}

/** CLLM4Rec's metrics as ratios to each learned baseline in the table (the comparison the README reports). */
export function ratioLines(rows: ResultRow[]): string[] {
  const ours = rows.find((r) => r.model === 'CLLM4Rec')
  if (!ours) return []
  const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : 'n/a')
  return rows
    .filter((r) => r.model === 'Mult-VAE' || r.model === 'EASE')
    .map(
      (b) =>
        `CLLM4Rec / ${b.model}: R@20 ${ratio(ours.recall20, b.recall20)}, R@40 ${ratio(ours.recall40, b.recall40)}, NDCG@100 ${ratio(ours.ndcg100, b.ndcg100)}`,
    )
}

const trainFlags = {
  dataset: {
    type: 'string',
    required: true,
    help: '"demo", a converted CLLM4Rec split folder, or a store dataset name or id',
  },
  db: { type: 'string', help: 'workbench database for store datasets (default: CLLM4REC_DB, else app data)' },
  backbone: { type: 'string', help: 'Hugging Face GPT-2 folder, or "scratch" (default)' },
  ...BACKBONE_TEXTS_FLAG,
  preset: { type: 'string', choices: PRESET_NAMES, help: 'config preset (default paper)' },
  seed: { type: 'int', help: 'random seed (default 1)' },
  'epochs-scale': { type: 'number', help: 'multiply every epoch count (e.g. 0.05 for a quick run)' },
  config: { type: 'string', help: 'JSON file of config overrides' },
  out: { type: 'string', help: 'run folder: config, checkpoints (resume), model.bin, metrics.json' },
  'no-baselines': { type: 'boolean', help: 'train CLLM4Rec only' },
  'vae-epochs': {
    type: 'int',
    help: `Mult-VAE epochs, best one chosen on validation (default ${MULT_VAE_EPOCHS})`,
  },
  json: { type: 'boolean', help: 'print one JSON object instead of a table' },
  ...BACKEND_FLAG,
} as const satisfies FlagSpecs

async function trainCommand(argv: string[]): Promise<number> {
  const f = parseArgs('train', argv, trainFlags)
  await startBackend(f.backend)
  const data = await resolveDataset(f.dataset as string, { db: f.db as string | undefined })
  let overrides: ConfigOverrides = {}
  if (f.config) {
    try {
      overrides = JSON.parse(fs.readFileSync(f.config as string, 'utf8'))
    } catch (e) {
      throw new UsageError(`--config ${f.config}: ${(e as Error).message}`)
    }
  }
  if (f.backbone) overrides.backbone = f.backbone as string
  await applyBackboneTexts(overrides, f['backbone-texts'] as string | undefined, (spec) =>
    resolveDataset(spec, { db: f.db as string | undefined }),
  )
  if (f.seed !== undefined) overrides.seed = f.seed as number
  if (f['epochs-scale'] !== undefined) overrides.epochsScale = f['epochs-scale'] as number
  const config = resolveConfig((f.preset ?? 'paper') as PresetName, overrides)
  process.stderr.write(
    `dataset: ${data.name}${data.synthetic ? ' [synthetic]' : ''}, ${data.userIds.length} users, ${data.itemIds.length} items\n`,
  )
  const r = await runExperiment(data, {
    config,
    outDir: f.out as string | undefined,
    datasetSpec: f.dataset as string,
    baselines: f['no-baselines'] ? false : { multVaeEpochs: f['vae-epochs'] as number | undefined },
    onProgress: stderrProgress(),
    onLog: (m) => process.stderr.write(m + '\n'),
  })
  r.session.dispose()
  if (f.json)
    process.stdout.write(
      JSON.stringify({
        dataset: r.dataset,
        synthetic: r.synthetic,
        protocol: r.protocol,
        rows: r.rows,
        stages: r.cllm4rec?.stages,
        truncated: r.cllm4rec?.truncated,
      }) + '\n',
    )
  else {
    process.stdout.write(
      formatTable(
        r.rows,
        `${r.dataset}${r.synthetic && !r.dataset.includes('synthetic') ? ' (synthetic)' : ''} — protocol: ${r.protocol}`,
      ),
    )
    // What produced the CLLM4Rec row, so a shortened or tuned schedule is never mistaken for the paper's.
    const { prompts: _prompts, ...shown } = overrides
    process.stdout.write(
      `CLLM4Rec config: preset ${f.preset ?? 'paper'}, overrides ${JSON.stringify(shown)}\n`,
    )
  }
  return 0
}

const baselineFlags = {
  dataset: trainFlags.dataset,
  db: trainFlags.db,
  'vae-epochs': trainFlags['vae-epochs'],
  json: trainFlags.json,
  ...BACKEND_FLAG,
} as const satisfies FlagSpecs

async function baselinesCommand(argv: string[]): Promise<number> {
  const f = parseArgs('baselines', argv, baselineFlags)
  await startBackend(f.backend)
  const data = await resolveDataset(f.dataset as string, { db: f.db as string | undefined })
  const rows = await runBaselines(
    data,
    { multVaeEpochs: f['vae-epochs'] as number | undefined },
    { onLog: (m) => process.stderr.write(m + '\n') },
  )
  if (f.json)
    process.stdout.write(
      JSON.stringify({ dataset: data.name, synthetic: data.synthetic, protocol: protocolLabel(data), rows }) +
        '\n',
    )
  else process.stdout.write(formatTable(rows, `${data.name} — protocol: ${protocolLabel(data)}`))
  return 0
}

/**
 * A run folder written by `train --out` and its dataset, reopened for inference. The folder is checked
 * before the backend starts, so a wrong path fails at once.
 */
export async function openRunFolder(
  dir: string,
  db: string | undefined,
  backend: string | undefined,
): Promise<{ data: RecDataset; session: Cllm4recSession }> {
  const runJson = path.join(dir, 'run.json')
  if (!fs.existsSync(runJson)) throw new UsageError(`--run ${dir}: no run.json (not a run folder)`)
  const spec = JSON.parse(fs.readFileSync(runJson, 'utf8')).dataset as string
  await startBackend(backend)
  const data = await resolveDataset(spec, { db })
  return { data, session: await openRun(dir, data) }
}

const recommendFlags = {
  run: { type: 'string', required: true, help: 'run folder written by train --out' },
  user: { type: 'int', required: true, help: 'dense user index' },
  k: { type: 'int', help: 'number of items (default 10)' },
  db: trainFlags.db,
  json: trainFlags.json,
  ...BACKEND_FLAG,
} as const satisfies FlagSpecs

async function recommendCommand(argv: string[]): Promise<number> {
  // `-k` is accepted as a short form of --k.
  const f = parseArgs(
    'recommend',
    argv.map((a) => (a === '-k' ? '--k' : a)),
    recommendFlags,
  )
  const { data, session } = await openRunFolder(f.run as string, f.db as string | undefined, f.backend)
  try {
    const recs = await session.recommend(f.user as number, (f.k as number | undefined) ?? 10)
    const out = recs.map((r) => ({ ...r, itemId: data.itemIds[r.item], text: data.itemTexts[r.item] }))
    if (f.json) process.stdout.write(JSON.stringify({ user: f.user, recommendations: out }) + '\n')
    else
      for (const r of out)
        process.stdout.write(`${r.item}\t${r.score.toFixed(4)}\t${r.itemId}\t${r.text ?? ''}\n`)
  } finally {
    session.dispose()
  }
  return 0
}

const textsFlags = {
  dataset: trainFlags.dataset,
  out: { type: 'string', required: true, help: 'text file to write, one document a line' },
  db: trainFlags.db,
} as const satisfies FlagSpecs

async function textsCommand(argv: string[]): Promise<number> {
  const f = parseArgs('texts', argv, textsFlags)
  const data = await resolveDataset(f.dataset as string, { db: f.db as string | undefined })
  const lines = datasetTextLines(data)
  writeLinesAtomic(f.out as string, lines)
  process.stderr.write(`${data.name}: ${lines.length} texts -> ${f.out}\n`)
  return 0
}

export const trainCommands: CommandTable = {
  train: { help: 'train CLLM4Rec and the baselines on one split; prints test metrics', run: trainCommand },
  baselines: { help: 'popularity, EASE and Mult-VAE on one split', run: baselinesCommand },
  recommend: { help: 'top-K items for a user from a run folder', run: recommendCommand },
  texts: {
    help: "write a dataset's texts (item/user texts, training reviews), one a line, for scratch.extraTexts",
    run: textsCommand,
  },
}
