// The flags and loading shared by the benchmarks that run at a CLLM4Rec split's real shapes.
import path from 'node:path'
import type { FlagSpecs } from '../main/cli/args'
import { readCllm4recSplit } from '../main/data/cllm4rec-split'
import type { RecDataset } from '../main/data/types'
import { initBackend, type BackendInfo, type BackendPreference } from '../main/engine/backend'

export const SPLIT_FLAGS = {
  data: {
    type: 'string',
    help: 'converted CLLM4Rec split (default ../shared/data/amazon-cllm4rec/beauty)',
  },
  backend: { type: 'string', help: 'TensorFlow.js backend (default native)' },
} as const satisfies FlagSpecs

/** The backend named by --backend (native by default) and the split named by --data (Beauty). */
export async function openSplit(f: {
  data?: string
  backend?: string
}): Promise<{ info: BackendInfo; data: RecDataset }> {
  const info = await initBackend((f.backend ?? 'native') as BackendPreference)
  const dir = f.data ?? path.resolve(import.meta.dirname, '../../shared/data/amazon-cllm4rec/beauty')
  return { info, data: readCllm4recSplit(dir) }
}
