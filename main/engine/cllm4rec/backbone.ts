// Backbone preparation (CLLM4REC.md §1): a Hugging Face GPT-2 folder, or the built-in scratch backbone
// trained on the dataset's own texts and cached by (data hash, scratch settings, seed) so repeated runs
// and resumed runs use the identical frozen network.
import { createHash, randomUUID } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { RecDataset } from '../../data/types'
import { loadGpt2, type Gpt2 } from '../gpt2/model'
import { trainScratchBackbone, type ScratchProgress } from '../gpt2/scratch'
import type { Cllm4recConfig } from './config'
import { backboneTexts } from './corpus'
import { readExtraTexts, type ExtraTexts } from './extra-texts'
import type { TextTokenizer } from './vocab'

export interface LoadedBackbone {
  model: Gpt2
  tokenizer: TextTokenizer
  dir: string
}

/**
 * Default cache folder of scratch backbones for a dataset + settings (+ the extra texts' content; pass
 * them when already read, else the file is read here).
 */
export function scratchCacheDir(data: RecDataset, c: Cllm4recConfig, read?: ExtraTexts | null): string {
  const { extraTexts, ...scratch } = c.scratch
  // Absent (not null) without extra texts: the key of every backbone cached before the option existed.
  const extra = extraTexts === null ? undefined : (read ?? readExtraTexts(extraTexts)).sha256
  const key = createHash('sha256')
    .update(JSON.stringify({ hash: data.hash, scratch, extra, seed: c.seed, prompts: c.prompts, v: 3 }))
    .digest('hex')
    .slice(0, 16)
  return path.join(os.tmpdir(), 'cllm4rec-backbones', key)
}

export async function prepareBackbone(
  data: RecDataset,
  c: Cllm4recConfig,
  opts: {
    dir?: string
    onLog?: (m: string) => void
    onProgress?: (p: ScratchProgress) => void
    signal?: AbortSignal
  } = {},
): Promise<LoadedBackbone> {
  if (c.backbone !== 'scratch') {
    const { model, tokenizer } = await loadGpt2(c.backbone)
    return { model, tokenizer, dir: c.backbone }
  }
  // Read only where it is needed: for the cache key when no folder is given, or to build the backbone.
  let extra = !opts.dir && c.scratch.extraTexts !== null ? readExtraTexts(c.scratch.extraTexts) : null
  const dir = opts.dir ?? scratchCacheDir(data, c, extra)
  if (!fs.existsSync(path.join(dir, 'model.safetensors'))) {
    if (c.scratch.extraTexts !== null) extra ??= readExtraTexts(c.scratch.extraTexts)
    const texts = backboneTexts(data, c.prompts)
    const own = texts.length
    if (extra) texts.push(...extra.texts)
    opts.onLog?.(
      `training scratch backbone (${c.scratch.layers} layers, width ${c.scratch.width}) on ${own} texts of the dataset and prompts` +
        (extra ? ` and ${extra.texts.length} of ${c.scratch.extraTexts}` : '') +
        ` -> ${dir}`,
    )
    fs.mkdirSync(path.dirname(dir), { recursive: true })
    // Train into a sibling temp folder of this call's own and rename, so a killed run never leaves a half
    // backbone and two runs building the same one at once do not share a folder.
    const tmp = `${dir}.tmp-${process.pid}-${randomUUID()}`
    const r = await trainScratchBackbone(texts, {
      outDir: tmp,
      layers: c.scratch.layers,
      width: c.scratch.width,
      heads: c.scratch.heads,
      context: c.scratch.context,
      epochs: c.scratch.epochs,
      vocabSize: c.scratch.vocabSize,
      seed: c.seed,
      signal: opts.signal,
      onProgress: opts.onProgress,
    })
    r.model?.dispose()
    // Another run may have built the same backbone meanwhile (same data, config and seed): keep its copy,
    // which that run may be reading, and drop ours.
    if (fs.existsSync(path.join(dir, 'model.safetensors'))) fs.rmSync(tmp, { recursive: true, force: true })
    else {
      fs.rmSync(dir, { recursive: true, force: true })
      fs.renameSync(tmp, dir)
    }
  }
  const { model, tokenizer } = await loadGpt2(dir)
  return { model, tokenizer, dir }
}
