// The training settings form: one ConfigField per tunable key of the CLLM4Rec config, derived from the
// engine's DEFAULT_CONFIG (types and defaults are never restated here, only the UI help text).
import type { ConfigField } from '../../preload/api'
import { CONFIG_ENUMS, DEFAULT_CONFIG, NULLABLE } from '../engine/cllm4rec/config'

// Chosen elsewhere in the UI (backbone picker, prompt editor, seed field), so not part of the form.
const NOT_IN_FORM = new Set(['backbone', 'prompts', 'seed'])

const HELP: Record<string, string> = {
  'scratch.layers': 'Transformer blocks of the built-in scratch backbone',
  'scratch.width': 'Embedding width of the scratch backbone (also the user/item embedding width)',
  'scratch.heads': 'Attention heads of the scratch backbone (width must be divisible by heads)',
  'scratch.context': 'Context length of the scratch backbone, in tokens',
  'scratch.epochs': "Language-model epochs over the dataset's texts for the scratch backbone",
  'scratch.vocabSize': 'BPE vocabulary size learned from the texts for the scratch backbone',
  'scratch.extraTexts':
    "Absolute path of a text file of further documents for the scratch backbone, one a line, e.g. another dataset's texts from `cli texts` (empty: the dataset's own only)",
  epochsScale: 'Multiplies warm-up, rounds and finetuning epochs',
  warmupEpochs: 'Content-only warm-up epochs (official: 10)',
  rounds: 'Pretraining rounds, each one collaborative + one content epoch (official: 100)',
  finetuneEpochs: 'Recommendation finetuning epochs (official: 150)',
  collabEpochsPerRound: 'Collaborative epochs in each pretraining round (official: 1)',
  recEpochsPerContentEpoch: 'Finetuning epochs per content epoch during finetuning (official: 1)',
  evalEvery: 'Validate every this many finetuning epochs (model selection)',
  evalPromptOrders:
    "Shuffled orders of a user's history in the prediction prompt whose scores are averaged (1: one order)",
  batchSize: 'Documents per batch',
  lrPretrain: 'Adam learning rate for warm-up and rounds',
  lrFinetune: 'Adam learning rate for finetuning',
  lrFinetuneSchedule: 'Finetuning learning rate: constant (official) or a cosine decay to 0 over the epochs',
  lambdaC: 'λ_c: strength of the mutual regularisation ||z^l − z^c||²',
  lambdaL: 'λ_l: Gaussian prior on the collaborative embeddings ||z^l||²',
  mutualScaling:
    "How the mutual term is scaled per batch ('per-doc' does not grow with batch size; 'per-epoch' also counts each row once an epoch)",
  reorderItems: 'Reshuffle the collaborative main text every pass (paper) or keep id order (official)',
  predictFirstMainToken: "Predict the first main-text token from the prompt's last state (paper)",
  finetuneTarget: 'Finetuning target: the masked-out items (paper) or all training items (official)',
  maskFraction: 'p_m: fraction of training items hidden per user per pass in masked prompting',
  maskCount:
    "Items hidden a pass: 'fixed' max(1, int(p_m·n)) (official code) or 'binomial', each with probability p_m",
  finetuneContent: 'Keep alternating content epochs during finetuning',
  maxLength: 'Document length cap in tokens (the backbone context caps it further)',
  contentMainCap: 'Cap on content main text in tokens (empty: none)',
  useReviews: 'Use reviews as content documents',
  useItemTexts: 'Use item texts as content documents',
  useUserTexts: 'Use user texts as content documents',
  initStd: 'Std of the N(0, σ²) initialisation of the user/item embeddings',
  dropout: "Backbone dropout in training steps (empty: the backbone's own pdrop, GPT-2 0.1; 0: off)",
}

const PROBABILITIES = new Set(['maskFraction', 'dropout'])
const NON_NEGATIVE = new Set([
  'lambdaC',
  'lambdaL',
  'warmupEpochs',
  'rounds',
  'finetuneEpochs',
  'scratch.epochs',
])

const INTEGER_KEYS = new Set([
  'collabEpochsPerRound',
  'recEpochsPerContentEpoch',
  'warmupEpochs',
  'rounds',
  'finetuneEpochs',
  'evalEvery',
  'evalPromptOrders',
  'batchSize',
  'maxLength',
  'contentMainCap',
  'scratch.layers',
  'scratch.width',
  'scratch.heads',
  'scratch.context',
  'scratch.epochs',
  'scratch.vocabSize',
])

function field(key: string, value: unknown): ConfigField {
  const help = HELP[key] ?? key
  const options = CONFIG_ENUMS[key]
  if (options) return { key, type: 'enum', default: value, help, options: [...options] }
  if (typeof value === 'boolean') return { key, type: 'boolean', default: value, help }
  if (typeof value === 'string' || NULLABLE[key] === 'string')
    return { key, type: 'string', default: value, help }
  const f: ConfigField = { key, type: INTEGER_KEYS.has(key) ? 'integer' : 'number', default: value, help }
  if (PROBABILITIES.has(key)) Object.assign(f, { min: 0, max: 1 })
  else if (NON_NEGATIVE.has(key)) f.min = 0
  else f.min = INTEGER_KEYS.has(key) ? 1 : 0
  return f
}

/** Form fields in DEFAULT_CONFIG order; nested objects become dotted keys ('scratch.layers'). */
export function configFields(): ConfigField[] {
  const out: ConfigField[] = []
  for (const [k, v] of Object.entries(DEFAULT_CONFIG)) {
    if (NOT_IN_FORM.has(k)) continue
    if (v !== null && typeof v === 'object') {
      for (const [k2, v2] of Object.entries(v)) out.push(field(`${k}.${k2}`, v2))
    } else out.push(field(k, v))
  }
  return out
}

/** Turns dotted form keys back into the nested overrides resolveConfig expects. */
export function nestOverrides(flat: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(flat)) {
    const dot = k.indexOf('.')
    if (dot < 0) {
      out[k] = v
      continue
    }
    const head = k.slice(0, dot)
    const sub = (out[head] ??= {}) as Record<string, unknown>
    if (typeof sub !== 'object' || sub === null)
      throw new Error(`config: "${head}" is both a value and a group`)
    sub[k.slice(dot + 1)] = v
  }
  return out
}
