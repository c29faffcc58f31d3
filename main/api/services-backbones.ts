// Backbones offered to runs: the built-in scratch GPT-2 and Hugging Face GPT-2 folders (found under
// `serve --models DIR` or picked in a native dialog). The renderer only ever sees opaque ids.
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import path from 'node:path'
import type { BackboneInfo } from '../../preload/api'
import { DEFAULT_CONFIG } from '../engine/cllm4rec/config'
import { readHfConfig } from '../engine/gpt2/config'
import type { FileAccess } from './files'
import { ApiError } from './validate'

const HF_FILES = ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt']

export class Backbones {
  /** Backbone id -> folder. */
  private readonly hfFolders = new Map<string, string>()

  constructor(private readonly files: FileAccess) {}

  private hfInfo(dir: string): BackboneInfo {
    const c = readHfConfig(path.join(dir, 'config.json'))
    const id = `hf:${createHash('sha256').update(dir).digest('hex').slice(0, 12)}`
    this.hfFolders.set(id, dir)
    return {
      id,
      label: path.basename(dir),
      kind: 'hf',
      nEmbd: c.nEmbd,
      nLayer: c.nLayer,
      vocabSize: c.vocabSize,
    }
  }

  list(): BackboneInfo[] {
    const s = DEFAULT_CONFIG.scratch
    const out: BackboneInfo[] = [
      {
        id: 'scratch',
        label: `Scratch GPT-2 (${s.layers} layers, width ${s.width}, trained on the dataset's text)`,
        kind: 'scratch',
        nEmbd: s.width,
        nLayer: s.layers,
        vocabSize: s.vocabSize,
      },
    ]
    for (const dir of this.files.listModelFolders()) {
      try {
        out.push(this.hfInfo(dir))
      } catch {
        // A folder with a broken config.json is not offered; picking it explicitly shows the error.
      }
    }
    for (const dir of this.hfFolders.values()) {
      if (!out.some((b) => this.hfFolders.get(b.id) === dir)) out.push(this.hfInfo(dir))
    }
    return out
  }

  /** A folder picked in a native dialog (main chose the path, never the renderer). */
  add(dir: string): BackboneInfo {
    for (const f of HF_FILES) {
      if (!existsSync(path.join(dir, f)))
        throw new ApiError(`${dir}: not a Hugging Face GPT-2 folder (missing ${f})`)
    }
    return this.hfInfo(dir)
  }

  /** 'scratch' or the folder behind an hf: id; unknown ids are a 404. */
  dir(backboneId: string): string {
    if (backboneId === 'scratch') return 'scratch'
    if (!this.hfFolders.has(backboneId)) this.list()
    const dir = this.hfFolders.get(backboneId)
    if (!dir) throw new ApiError(`unknown backbone '${backboneId}'`, 404)
    return dir
  }
}
