// Quality benchmark (CLLM4REC.md §7): CLLM4Rec with the built-in scratch backbone (trained on the item
// tags; tags are also the item-text documents) against popularity, EASE and Mult-VAE on one split,
// with wall time per model and tokens/s per training stage.
//   npm run bench -- quality --dataset ../shared/data/amazon-cllm4rec/beauty [--preset fast] [--epochs-scale 0.05]
//     [--config overrides.json] [--vae-epochs 10] [--ease-grid 30,100,300,1000] [--no-baselines]
import fs from 'node:fs'
import { formatTable, resolveDataset, stderrProgress } from '../main/cli/train-commands'
import { parseArgs, type FlagSpecs } from '../main/cli/args'
import { initBackend, type BackendPreference } from '../main/engine/backend'
import {
  PRESET_NAMES,
  resolveConfig,
  type ConfigOverrides,
  type PresetName,
} from '../main/engine/cllm4rec/config'
import { runBaselines, runExperiment } from '../main/engine/train/experiment'

const flags = {
  dataset: { type: 'string', required: true, help: 'converted CLLM4Rec split folder, or demo' },
  preset: { type: 'string', choices: PRESET_NAMES, help: 'config preset (default paper)' },
  'epochs-scale': {
    type: 'number',
    help: 'multiply every CLLM4Rec epoch count (default: 0.05 for paper/official, 1 for fast)',
  },
  config: { type: 'string', help: 'JSON file of CLLM4Rec config overrides' },
  'vae-epochs': { type: 'int', help: 'Mult-VAE epochs (default 10)' },
  'ease-grid': { type: 'string', help: 'comma-separated EASE λ grid' },
  'no-baselines': { type: 'boolean', help: 'skip the baselines' },
  backend: { type: 'string', help: 'TensorFlow.js backend (default auto)' },
} as const satisfies FlagSpecs

export async function run(argv: string[]): Promise<void> {
  const f = parseArgs('bench quality', argv, flags)
  const info = await initBackend((f.backend ?? 'auto') as BackendPreference)
  const t0 = performance.now()
  const data = await resolveDataset(f.dataset as string)
  const overrides: ConfigOverrides = f.config ? JSON.parse(fs.readFileSync(f.config as string, 'utf8')) : {}
  const preset = (f.preset ?? 'paper') as PresetName
  overrides.epochsScale =
    (f['epochs-scale'] as number | undefined) ?? overrides.epochsScale ?? (preset === 'fast' ? 1 : 0.05)
  const config = resolveConfig(preset, overrides)
  process.stderr.write(
    `backend ${info.name}; ${data.name}: ${data.userIds.length} users, ${data.itemIds.length} items\n`,
  )
  const r = await runExperiment(data, {
    config,
    baselines: false,
    onProgress: stderrProgress(),
    onLog: (m) => process.stderr.write(m + '\n'),
  })
  const tBaselines = performance.now()
  const rows = [...r.rows]
  if (!f['no-baselines']) {
    const grid = f['ease-grid'] ? String(f['ease-grid']).split(',').map(Number) : undefined
    rows.push(
      ...(await runBaselines(
        data,
        { easeGrid: grid, multVaeEpochs: (f['vae-epochs'] as number | undefined) ?? 10 },
        { onLog: (m) => process.stderr.write(m + '\n') },
      )),
    )
  }
  const stages = r.cllm4rec?.stages ?? {}
  const lines = Object.entries(stages).map(
    ([k, s]) =>
      `  ${k.padEnd(18)} ${Math.round(s.tokensPerSec).toString().padStart(7)} tok/s  ${s.tokens} tokens in ${s.seconds.toFixed(1)}s`,
  )
  process.stdout.write(
    formatTable(
      rows,
      `${r.dataset}${r.synthetic && !r.dataset.includes('synthetic') ? ' (synthetic)' : ''}; protocol: ${r.protocol}`,
    ),
  )
  process.stdout.write(`CLLM4Rec config: preset ${preset}, overrides ${JSON.stringify(overrides)}\n`)
  process.stdout.write(
    `CLLM4Rec best val: ${JSON.stringify(r.cllm4rec?.val)}; truncated docs: ${JSON.stringify(r.cllm4rec?.truncated)}\n`,
  )
  process.stdout.write(`stages (backend ${info.name}):\n${lines.join('\n')}\n`)
  process.stdout.write(
    `wall: CLLM4Rec ${((tBaselines - t0) / 1000).toFixed(0)}s, baselines ${((performance.now() - tBaselines) / 1000).toFixed(0)}s\n`,
  )
  r.session.dispose()
}
