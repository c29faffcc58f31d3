// Maps Hugging Face GPT-2 tensor names onto the model and checks every one of them (CLLM4REC.md §9:
// the official code's strict=False loading can skip weights silently; here anything missing, extra or
// mis-shaped is an error that names the tensor).
import type { Gpt2Config } from './config'

export const LAYER_PARAMS = [
  'ln_1.weight',
  'ln_1.bias',
  'attn.c_attn.weight',
  'attn.c_attn.bias',
  'attn.c_proj.weight',
  'attn.c_proj.bias',
  'ln_2.weight',
  'ln_2.bias',
  'mlp.c_fc.weight',
  'mlp.c_fc.bias',
  'mlp.c_proj.weight',
  'mlp.c_proj.bias',
] as const

/** Every parameter name (without the `transformer.` prefix) and its shape for a config. */
export function expectedShapes(c: Gpt2Config): Map<string, number[]> {
  const C = c.nEmbd
  const m = new Map<string, number[]>([
    ['wte.weight', [c.vocabSize, C]],
    ['wpe.weight', [c.nPositions, C]],
  ])
  const layer: Record<(typeof LAYER_PARAMS)[number], number[]> = {
    'ln_1.weight': [C],
    'ln_1.bias': [C],
    'attn.c_attn.weight': [C, 3 * C],
    'attn.c_attn.bias': [3 * C],
    'attn.c_proj.weight': [C, C],
    'attn.c_proj.bias': [C],
    'ln_2.weight': [C],
    'ln_2.bias': [C],
    'mlp.c_fc.weight': [C, 4 * C],
    'mlp.c_fc.bias': [4 * C],
    'mlp.c_proj.weight': [4 * C, C],
    'mlp.c_proj.bias': [C],
  }
  for (let i = 0; i < c.nLayer; i++) for (const p of LAYER_PARAMS) m.set(`h.${i}.${p}`, layer[p])
  m.set('ln_f.weight', [C])
  m.set('ln_f.bias', [C])
  return m
}

// Non-parameter buffers that older HF versions save (causal mask, masked fill value).
const BUFFER = /^h\.\d+\.attn\.(bias|masked_bias)$/

export interface CheckedWeights<T> {
  weights: Map<string, T>
  notes: string[]
}

/**
 * Canonicalise names (drop `transformer.`), then require exactly the expected parameters with the
 * expected shapes. `lm_head.weight` is accepted only if `sameAsWte` says it equals the tied wte.
 */
export function checkWeights<T extends { shape: number[] }>(
  config: Gpt2Config,
  input: Map<string, T>,
  source: string,
  sameAsWte: (lmHead: T, wte: T) => boolean,
): CheckedWeights<T> {
  const expected = expectedShapes(config)
  const weights = new Map<string, T>()
  const notes: string[] = []
  const extra: string[] = []
  let lmHead: T | undefined
  for (const [rawName, t] of input) {
    const name = rawName.startsWith('transformer.') ? rawName.slice('transformer.'.length) : rawName
    if (name === 'lm_head.weight') {
      lmHead = t
      continue
    }
    if (BUFFER.test(name)) {
      notes.push(`ignored buffer ${rawName} (not a parameter)`)
      continue
    }
    if (!expected.has(name)) {
      extra.push(rawName)
      continue
    }
    if (weights.has(name))
      throw new Error(`${source}: tensor "${name}" appears twice (with and without "transformer.")`)
    const want = expected.get(name) as number[]
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new Error(`${source}: tensor "${rawName}" has shape [${t.shape}], config needs [${want}]`)
    }
    weights.set(name, t)
  }
  const missing = [...expected.keys()].filter((n) => !weights.has(n))
  if (missing.length > 0) {
    throw new Error(
      `${source}: missing ${missing.length} tensor(s): ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ', ...' : ''}`,
    )
  }
  if (extra.length > 0) {
    throw new Error(
      `${source}: unexpected tensor(s) not part of GPT-2 with this config: ${extra.slice(0, 8).join(', ')}`,
    )
  }
  if (lmHead) {
    const wte = weights.get('wte.weight') as T
    const want = expected.get('wte.weight') as number[]
    if (lmHead.shape.length !== 2 || lmHead.shape[0] !== want[0] || lmHead.shape[1] !== want[1]) {
      throw new Error(`${source}: lm_head.weight has shape [${lmHead.shape}], expected tied [${want}]`)
    }
    if (!sameAsWte(lmHead, wte)) {
      throw new Error(`${source}: lm_head.weight differs from wte.weight; untied heads are not supported`)
    }
    notes.push('lm_head.weight equals wte.weight (tied head): ignored')
  }
  return { weights, notes }
}
