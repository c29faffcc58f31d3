// CLI commands for datasets: `import <file|dir> [...]` and `dataset list|show|delete`. Progress goes to
// stderr, results to stdout (--json for machine-readable output). Registered by main/cli/index.ts.
import { DataError, AbortError } from '../data/errors'
import { parseColumnMap } from '../data/formats/delimited'
import { FORMAT_NAMES, type FormatName } from '../data/formats/common'
import type { ImportProgress } from '../data/progress'
import { formatStats } from '../data/stats'
import { validateSplit } from '../data/preprocess'
import { openStore, resolveDbPath, StoreError } from '../store/db'
import { deleteDataset, getDataset, listDatasets } from '../store/datasets-repo'
import { importDataset } from '../store/import-dataset'
import { UsageError, type CommandTable } from './args'

interface Parsed {
  positional: string[]
  flags: Record<string, string | true>
}

/** Minimal flag parser: --name value / --name=value / boolean flags; unknown flags are rejected. */
function parseFlags(argv: string[], valued: string[], booleans: string[]): Parsed {
  const positional: string[] = []
  const flags: Record<string, string | true> = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (!a.startsWith('--')) {
      positional.push(a)
      continue
    }
    const eq = a.indexOf('=')
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2)
    if (booleans.includes(name)) {
      if (eq > 0) throw new UsageError(`--${name} takes no value`)
      flags[name] = true
    } else if (valued.includes(name)) {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i]
      if (v === undefined) throw new UsageError(`--${name} needs a value`)
      flags[name] = v
    } else
      throw new UsageError(
        `unknown flag --${name} (allowed: ${[...valued, ...booleans].map((f) => '--' + f).join(' ')})`,
      )
  }
  return { positional, flags }
}

const str = (v: string | true | undefined) => (typeof v === 'string' ? v : undefined)

function num(flags: Parsed['flags'], name: string, integer = false): number | undefined {
  const v = str(flags[name])
  if (v === undefined) return undefined
  const x = Number(v)
  if (!Number.isFinite(x) || (integer && !Number.isInteger(x)))
    throw new UsageError(`--${name} must be a${integer ? 'n integer' : ' number'}, got '${v}'`)
  return x
}

function progressPrinter(): (p: ImportProgress) => void {
  const tty = process.stderr.isTTY
  let lastPhase = ''
  return (p) => {
    const pct = p.totalBytes > 0 ? ` ${((100 * p.bytesRead) / p.totalBytes).toFixed(0)}%` : ''
    const eta = p.etaMs !== null && p.phase !== 'done' ? ` ETA ${(p.etaMs / 1000).toFixed(1)}s` : ''
    const file = p.file ? ` ${p.file.split(/[\\/]/).pop()}` : ''
    const line = `[${p.phase}]${file}${pct} ${p.rows.toLocaleString('en-US')} rows${eta}`
    if (tty) process.stderr.write(`\r\x1b[K${line}`)
    else if (p.phase !== lastPhase) process.stderr.write(line + '\n')
    lastPhase = p.phase
  }
}

async function importCommand(argv: string[]): Promise<number> {
  const { positional, flags } = parseFlags(
    argv,
    [
      'format',
      'map',
      'sep',
      'encoding',
      'min-rating',
      'kcore',
      'split',
      'seed',
      'db',
      'name',
      'items',
      'dedup',
    ],
    ['json', 'quiet'],
  )
  if (positional.length !== 1)
    throw new UsageError(
      'usage: import <file|dir> [--format amazon|movielens|csv|recbole|cllm4rec] [--map user=col,item=col,...] [--sep ,] [--encoding utf-8|latin1] [--min-rating r] [--kcore k] [--split 0.8,0.1,0.1] [--seed N] [--db FILE] [--name NAME] [--items FILE] [--json]',
    )
  const format = str(flags.format) as FormatName | undefined
  if (format && !FORMAT_NAMES.includes(format))
    throw new UsageError(`--format must be one of ${FORMAT_NAMES.join('|')}`)
  const dedup = str(flags.dedup)
  if (dedup && dedup !== 'latest' && dedup !== 'first')
    throw new UsageError('--dedup must be latest or first')
  const splitS = str(flags.split)
  const split = splitS ? validateSplit(splitS.split(',').map(Number)) : undefined
  const encoding = str(flags.encoding)
  if (encoding && encoding !== 'utf-8' && encoding !== 'latin1')
    throw new UsageError('--encoding must be utf-8 or latin1')
  const sepS = str(flags.sep)
  const sep = sepS === '\\t' || sepS === 'tab' ? '\t' : sepS
  const store = openStore(resolveDbPath(str(flags.db)))
  const ac = new AbortController()
  const onSigint = () => ac.abort()
  process.once('SIGINT', onSigint)
  try {
    const r = await importDataset(store, {
      path: positional[0],
      format,
      map: str(flags.map) ? parseColumnMap(str(flags.map)!) : undefined,
      sep,
      encoding: encoding as 'utf-8' | 'latin1' | undefined,
      minRating: num(flags, 'min-rating'),
      kcore: num(flags, 'kcore', true),
      split,
      seed: num(flags, 'seed', true),
      name: str(flags.name),
      itemsFile: str(flags.items),
      dedup: dedup as 'latest' | 'first' | undefined,
      onProgress: flags.quiet ? undefined : progressPrinter(),
      signal: ac.signal,
    })
    if (!flags.quiet && process.stderr.isTTY) process.stderr.write('\n')
    if (flags.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n')
    else {
      process.stdout.write(
        `imported '${r.name}' (id ${r.datasetId}, format ${r.format}) into ${store.file}\n`,
      )
      process.stdout.write(formatStats(r.name, r.stats) + '\n')
    }
    for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`)
    return 0
  } finally {
    process.removeListener('SIGINT', onSigint)
    store.close()
  }
}

async function datasetCommand(argv: string[]): Promise<number> {
  const { positional, flags } = parseFlags(argv, ['db'], ['json', 'force'])
  const [sub, name] = positional
  const usage =
    'usage: dataset list | dataset show <name> | dataset delete <name> [--force] [--db FILE] [--json]'
  if (!sub || !['list', 'show', 'delete'].includes(sub)) throw new UsageError(usage)
  if (sub !== 'list' && (!name || positional.length !== 2)) throw new UsageError(usage)
  if (sub === 'list' && positional.length !== 1) throw new UsageError(usage)
  const store = openStore(resolveDbPath(str(flags.db)))
  try {
    if (sub === 'list') {
      const rows = listDatasets(store)
      if (flags.json)
        process.stdout.write(
          JSON.stringify(
            rows.map(({ stats: _s, options: _o, ...r }) => r),
            null,
            2,
          ) + '\n',
        )
      else if (rows.length === 0) process.stdout.write(`no datasets in ${store.file}\n`)
      else
        for (const r of rows)
          process.stdout.write(
            `${String(r.id).padStart(4)}  ${r.name.padEnd(28)} ${r.format.padEnd(9)} ${r.users} users x ${r.items} items, ` +
              `${r.interactions} interactions${r.synthetic ? ' [synthetic]' : ''}\n`,
          )
    } else if (sub === 'show') {
      const r = getDataset(store, name)
      if (flags.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n')
      else {
        process.stdout.write(formatStats(r.name, r.stats) + '\n')
        process.stdout.write(
          `  source ${r.source} (${r.format}), file hash ${r.fileHash}\n  split ${r.splitProtocol}\n  created ${r.createdAt}\n`,
        )
      }
    } else {
      const r = deleteDataset(store, name, { force: !!flags.force })
      if (flags.json) process.stdout.write(JSON.stringify({ deleted: r.id, name: r.name }) + '\n')
      else process.stdout.write(`deleted dataset '${r.name}' (id ${r.id})\n`)
    }
    return 0
  } finally {
    store.close()
  }
}

/** Runs a command, mapping expected failures to a one-line message and an exit code (2 = usage). */
function guarded(fn: (argv: string[]) => Promise<number>): (argv: string[]) => Promise<number> {
  return async (argv) => {
    try {
      return await fn(argv)
    } catch (err) {
      if (process.stderr.isTTY) process.stderr.write('\n')
      if (err instanceof UsageError) {
        process.stderr.write(`error: ${err.message}\n`)
        return 2
      }
      if (err instanceof DataError || err instanceof StoreError || err instanceof AbortError) {
        process.stderr.write(`error: ${err.message}\n`)
        return 1
      }
      throw err
    }
  }
}

export const dataCommands: CommandTable = {
  import: {
    help: 'import <file|dir>: Amazon JSONL(.gz), MovieLens, CSV/TSV, RecBole, CLLM4Rec -> SQLite dataset',
    run: guarded(importCommand),
  },
  dataset: {
    help: 'dataset list | show <name> | delete <name>: datasets in the database',
    run: guarded(datasetCommand),
  },
}
