// GPT-2 hyperparameters read from a Hugging Face config.json (CLLM4REC.md §1: the backbone is GPT-2
// in HF format). Only what the forward pass needs is kept; anything we cannot honour is rejected.
import fs from 'node:fs'

export interface Gpt2Config {
  vocabSize: number
  nPositions: number
  nEmbd: number
  nLayer: number
  nHead: number
  layerNormEpsilon: number
  /** MLP activation; HF 'gelu_new' (tanh approximation, GPT-2's own) when absent, or exact 'gelu' (erf). */
  activation?: 'gelu_new' | 'gelu'
  /** HF embd_pdrop / attn_pdrop / resid_pdrop (0.1 when absent, as in HF); applied in training only. */
  dropout?: DropoutRates
}

export interface DropoutRates {
  embd: number
  attn: number
  resid: number
}

/** Validate a config object; errors name the source (file) and the field. */
export function validateConfig(c: Gpt2Config, source = 'config'): Gpt2Config {
  const posInt = (field: 'vocabSize' | 'nPositions' | 'nEmbd' | 'nLayer' | 'nHead') => {
    const v = c[field]
    if (!Number.isInteger(v) || v <= 0)
      throw new Error(`${source}: ${field} must be a positive integer, got ${v}`)
  }
  posInt('vocabSize')
  posInt('nPositions')
  posInt('nEmbd')
  posInt('nLayer')
  posInt('nHead')
  if (c.nEmbd % c.nHead !== 0) {
    throw new Error(`${source}: n_embd (${c.nEmbd}) must be divisible by n_head (${c.nHead})`)
  }
  if (!(typeof c.layerNormEpsilon === 'number' && c.layerNormEpsilon > 0 && c.layerNormEpsilon < 1)) {
    throw new Error(
      `${source}: layer_norm_epsilon must be a small positive number, got ${c.layerNormEpsilon}`,
    )
  }
  if (c.dropout) {
    for (const [k, v] of Object.entries(c.dropout))
      if (!(typeof v === 'number' && v >= 0 && v < 1))
        throw new Error(`${source}: ${k}_pdrop must be in [0, 1), got ${v}`)
  }
  return c
}

/** Parse HF GPT-2 config.json content. */
export function parseHfConfig(json: unknown, source = 'config.json'): Gpt2Config {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(`${source}: expected a JSON object`)
  }
  const j = json as Record<string, unknown>
  const num = (keys: string[], fallback?: number): number => {
    for (const k of keys)
      if (j[k] !== undefined && j[k] !== null) {
        if (typeof j[k] !== 'number')
          throw new Error(`${source}: field "${k}" must be a number, got ${JSON.stringify(j[k])}`)
        return j[k] as number
      }
    if (fallback !== undefined) return fallback
    throw new Error(`${source}: missing field "${keys.join('" or "')}"`)
  }
  const act = j.activation_function ?? 'gelu_new'
  if (act !== 'gelu_new' && act !== 'gelu') {
    throw new Error(`${source}: activation_function "${String(act)}" is not supported (gelu_new or gelu)`)
  }
  if (j.n_inner !== undefined && j.n_inner !== null && j.n_inner !== 4 * (j.n_embd as number)) {
    throw new Error(`${source}: n_inner ${String(j.n_inner)} is not supported (must be null or 4*n_embd)`)
  }
  if (j.tie_word_embeddings === false) {
    throw new Error(`${source}: tie_word_embeddings=false is not supported (the head is tied to wte)`)
  }
  for (const flag of ['scale_attn_by_inverse_layer_idx', 'reorder_and_upcast_attn'] as const) {
    if (j[flag] === true) throw new Error(`${source}: ${flag}=true is not supported`)
  }
  if (j.scale_attn_weights === false) throw new Error(`${source}: scale_attn_weights=false is not supported`)
  return validateConfig(
    {
      vocabSize: num(['vocab_size']),
      nPositions: num(['n_positions', 'n_ctx']),
      nEmbd: num(['n_embd']),
      nLayer: num(['n_layer']),
      nHead: num(['n_head']),
      layerNormEpsilon: num(['layer_norm_epsilon'], 1e-5),
      activation: act,
      dropout: {
        embd: num(['embd_pdrop'], 0.1),
        attn: num(['attn_pdrop'], 0.1),
        resid: num(['resid_pdrop'], 0.1),
      },
    },
    source,
  )
}

export function readHfConfig(file: string): Gpt2Config {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (e) {
    throw new Error(`${file}: cannot read GPT-2 config (${(e as Error).message})`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    throw new Error(`${file}: invalid JSON (${(e as Error).message})`)
  }
  return parseHfConfig(json, file)
}

/** HF config.json content for a config (used when we write a checkpoint). */
export function toHfConfig(c: Gpt2Config, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    activation_function: c.activation ?? 'gelu_new',
    vocab_size: c.vocabSize,
    n_positions: c.nPositions,
    n_ctx: c.nPositions,
    n_embd: c.nEmbd,
    n_layer: c.nLayer,
    n_head: c.nHead,
    n_inner: null,
    layer_norm_epsilon: c.layerNormEpsilon,
    embd_pdrop: c.dropout?.embd ?? 0.1,
    attn_pdrop: c.dropout?.attn ?? 0.1,
    resid_pdrop: c.dropout?.resid ?? 0.1,
    scale_attn_weights: true,
    tie_word_embeddings: true,
    bos_token_id: c.vocabSize - 1,
    eos_token_id: c.vocabSize - 1,
    ...extra,
  }
}
