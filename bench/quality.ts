// Quality benchmark (CLLM4REC.md §7): CLLM4Rec with the built-in scratch backbone (trained on the item
// tags; tags are also the item-text documents) against popularity, EASE and Mult-VAE on one split,
// with wall time per model and tokens/s per training stage. With no configuration flag it runs the
// configuration selected for the split (main/cli/selected-config.ts), else the paper preset at 0.05.
//   npm run bench -- quality --dataset ../shared/data/amazon-cllm4rec/beauty [--preset fast] [--epochs-scale 0.05]
//     [--config overrides.json] [--backbone-texts FILE|DATASET] [--vae-epochs 200] [--vae-seed 1] [--ease-grid 30,100,300,1000] [--no-baselines | --baselines-only]
import { formatTable, resolveDataset, stderrProgress } from '../main/cli/train-commands'
import { parseArgs, type FlagSpecs, type ParsedFlags } from '../main/cli/args'
import { applyBackboneTexts, BACKBONE_TEXTS_FLAG } from '../main/cli/backbone-texts'
import { benchConfig } from '../main/cli/selected-config'
import type { RecDataset } from '../main/data/types'
import { initBackend, type BackendPreference } from '../main/engine/backend'
import { PRESET_NAMES, resolveConfig } from '../main/engine/cllm4rec/config'
import { MULT_VAE_EPOCHS } from '../main/engine/baselines/mult-vae-epochs'
import { protocolLabel, runBaselines, runExperiment, type ResultRow } from '../main/engine/train/experiment'

const flags = {
  dataset: { type: 'string', required: true, help: 'converted CLLM4Rec split folder, or demo' },
  preset: {
    type: 'string',
    choices: PRESET_NAMES,
    help: 'config preset (default: the configuration selected for the split, else paper)',
  },
  'epochs-scale': {
    type: 'number',
    help: 'multiply every CLLM4Rec epoch count (default: 0.05 for paper/official, 1 for fast)',
  },
  config: { type: 'string', help: 'JSON file of CLLM4Rec config overrides' },
  ...BACKBONE_TEXTS_FLAG,
  'vae-epochs': {
    type: 'int',
    help: `Mult-VAE epochs, best one chosen on validation (default ${MULT_VAE_EPOCHS})`,
  },
  'vae-seed': { type: 'int', help: 'Mult-VAE seed (default 1), to compare across seeds' },
  'ease-grid': { type: 'string', help: 'comma-separated EASE λ grid' },
  'no-baselines': { type: 'boolean', help: 'skip the baselines' },
  'baselines-only': { type: 'boolean', help: 'skip CLLM4Rec (baselines of a longer schedule)' },
  backend: { type: 'string', help: 'TensorFlow.js backend (default auto)' },
} as const satisfies FlagSpecs

export async function run(argv: string[]): Promise<void> {
  const f = parseArgs('bench quality', argv, flags)
  if (f['no-baselines'] && f['baselines-only'])
    throw new Error('bench quality: --no-baselines and --baselines-only exclude each other')
  const info = await initBackend((f.backend ?? 'auto') as BackendPreference)
  const data = await resolveDataset(f.dataset as string)
  process.stderr.write(
    `backend ${info.name}; ${data.name}: ${data.userIds.length} users, ${data.itemIds.length} items\n`,
  )
  const t0 = performance.now()
  const cllm4rec = f['baselines-only'] ? null : await trainAndReport(f, data, info.name)
  const tBaselines = performance.now()
  const rows: ResultRow[] = cllm4rec ? [...cllm4rec.rows] : []
  if (!f['no-baselines']) {
    const grid = f['ease-grid'] ? String(f['ease-grid']).split(',').map(Number) : undefined
    rows.push(
      ...(await runBaselines(
        data,
        {
          easeGrid: grid,
          multVaeEpochs: f['vae-epochs'] as number | undefined,
          multVaeSeed: f['vae-seed'] as number | undefined,
        },
        { onLog: (m) => process.stderr.write(m + '\n') },
      )),
    )
  }
  const synthetic = data.synthetic && !data.name.includes('synthetic') ? ' (synthetic)' : ''
  process.stdout.write(formatTable(rows, `${data.name}${synthetic}; protocol: ${protocolLabel(data)}`))
  cllm4rec?.print()
  process.stdout.write(
    `wall: CLLM4Rec ${((tBaselines - t0) / 1000).toFixed(0)}s, baselines ${((performance.now() - tBaselines) / 1000).toFixed(0)}s\n`,
  )
}

/** Trains CLLM4Rec as configured; print() writes its config, best val and stage speeds. */
async function trainAndReport(f: ParsedFlags<typeof flags>, data: RecDataset, backend: string) {
  const { preset, overrides, backboneTexts, selected } = benchConfig(f, data)
  if (selected) process.stderr.write(`configuration selected for ${selected} (give --preset for another)\n`)
  await applyBackboneTexts(overrides, backboneTexts, (spec) => resolveDataset(spec))
  overrides.epochsScale =
    (f['epochs-scale'] as number | undefined) ?? overrides.epochsScale ?? (preset === 'fast' ? 1 : 0.05)
  const config = resolveConfig(preset, overrides)
  const r = await runExperiment(data, {
    config,
    baselines: false,
    onProgress: stderrProgress(),
    onLog: (m) => process.stderr.write(m + '\n'),
  })
  r.session.dispose()
  const print = () => {
    const lines = Object.entries(r.cllm4rec?.stages ?? {}).map(
      ([k, s]) =>
        `  ${k.padEnd(18)} ${Math.round(s.tokensPerSec).toString().padStart(7)} tok/s  ${s.tokens} tokens in ${s.seconds.toFixed(1)}s`,
    )
    process.stdout.write(
      `CLLM4Rec config: ${selected ? `selected for ${selected}; ` : ''}preset ${preset}, overrides ${JSON.stringify(overrides)}\n`,
    )
    process.stdout.write(
      `CLLM4Rec best val: ${JSON.stringify(r.cllm4rec?.val)}; truncated docs: ${JSON.stringify(r.cllm4rec?.truncated)}\n`,
    )
    process.stdout.write(`stages (backend ${backend}):\n${lines.join('\n')}\n`)
  }
  return { rows: r.rows, print }
}
