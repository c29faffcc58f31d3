// `breakdown`: where a trained CLLM4Rec run wins or loses against the baselines, by user history length
// and by held-out item popularity (engine/eval/breakdown.ts), on the run's own dataset and split.
//   npm run -s cli -- breakdown --run DIR [--split test|val] [--vae-epochs N] [--db FILE] [--json]
import { breakdown, type BreakdownRow } from '../engine/eval/breakdown'
import { breakdownBaselines } from '../engine/train/breakdown-baselines'
import { protocolLabel } from '../engine/train/experiment'
import { parseArgs, type CommandTable, type FlagSpecs } from './args'
import { BACKEND_FLAG } from './gpt2-commands'
import { openRunFolder, stderrProgress } from './train-commands'

const flags = {
  run: { type: 'string', required: true, help: 'run folder written by train --out' },
  split: { type: 'string', choices: ['test', 'val'], help: 'held-out split (default test)' },
  'vae-epochs': {
    type: 'int',
    help: 'also fit Mult-VAE for this many epochs (best on validation); default: not run',
  },
  db: { type: 'string', help: 'workbench database for store datasets' },
  json: { type: 'boolean', help: 'one JSON object on stdout' },
  ...BACKEND_FLAG,
} as const satisfies FlagSpecs

/** The breakdown as two aligned tables, one per axis, with each model's figure per group. */
export function formatBreakdown(rows: BreakdownRow[], models: string[], title: string): string {
  const out = [title]
  const axes: [BreakdownRow['axis'], string, string][] = [
    ['history', 'training items', 'users; Recall@20'],
    ['popularity', 'item popularity', 'held-out items; share in the top 20'],
  ]
  for (const [axis, label, what] of axes) {
    out.push('', `by ${label} (${what})`)
    out.push(`${label.padEnd(16)} ${'n'.padStart(6)} ${models.map((m) => m.padStart(10)).join(' ')}`)
    for (const r of rows.filter((x) => x.axis === axis))
      out.push(
        `${r.group.padEnd(16)} ${String(r.count).padStart(6)} ${models
          .map((m) => (Number.isNaN(r.values[m]) ? '–' : r.values[m].toFixed(4)).padStart(10))
          .join(' ')}`,
      )
  }
  return out.join('\n') + '\n'
}

async function breakdownCommand(argv: string[]): Promise<number> {
  const f = parseArgs('breakdown', argv, flags)
  const { data, session } = await openRunFolder(f.run as string, f.db as string | undefined, f.backend)
  const split = (f.split ?? 'test') as 'test' | 'val'
  const log = (m: string) => process.stderr.write(m + '\n')
  const disposers = [() => session.dispose()]
  try {
    const baselines = await breakdownBaselines(
      data,
      { multVaeEpochs: f['vae-epochs'] as number | undefined },
      { onProgress: stderrProgress() },
    )
    for (const m of baselines) if (m.dispose) disposers.push(m.dispose)
    for (const m of baselines) if (m.setting) log(`${m.name}: ${m.setting}`)
    const models = [{ name: 'CLLM4Rec', scorer: session }, ...baselines]
    const rows = await breakdown(models, data, split)
    const names = models.map((m) => m.name)
    const protocol = protocolLabel(data, split)
    if (f.json)
      process.stdout.write(
        JSON.stringify({ dataset: data.name, split, protocol, models: names, rows }) + '\n',
      )
    else process.stdout.write(formatBreakdown(rows, names, `${data.name} — protocol: ${protocol}`))
  } finally {
    for (const d of disposers) d()
  }
  return 0
}

export const breakdownCommands: CommandTable = {
  breakdown: {
    help: 'Recall@20 of a run and the baselines by user history length and item popularity',
    run: breakdownCommand,
  },
}
