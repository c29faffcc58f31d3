// Runtime argument validation for every API call. The renderer is untrusted (a compromised page, a
// hand-written HTTP request), so each handler checks its arguments and fails with an error that names
// the argument, e.g. "argument 'runId' must be a positive integer".
import type {
  BreakdownOptions,
  ColumnMap,
  DocumentKind,
  EvalSplit,
  PromptTemplates,
  RunInput,
  RunMetaPatch,
  Sampling,
} from '../../preload/api'
import { PRESET_NAMES } from '../engine/cllm4rec/config'
import { MAX_MULT_VAE_EPOCHS } from '../engine/baselines/mult-vae-epochs'

/** A client mistake (bad argument, unknown method, missing record): HTTP 400/404, never a crash. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 403 | 404 | 409 | 503 = 400,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export const DOCUMENT_KINDS: readonly DocumentKind[] = [
  'collaborative',
  'review',
  'itemText',
  'userText',
  'recommendation',
]

const bad = (name: string, what: string): ApiError => new ApiError(`argument '${name}' must be ${what}`)

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function int(name: string, v: unknown, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw bad(name, 'an integer')
  if (v < min || v > max) {
    if (min === 1 && max === Infinity) throw bad(name, 'a positive integer')
    throw bad(name, `an integer in [${min}, ${max === Infinity ? '∞' : max}]`)
  }
  return v
}

export const id = (name: string, v: unknown): number => int(name, v, 1)

export function num(name: string, v: unknown, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(name, 'a finite number')
  if (v < min || v > max) throw bad(name, `a number in [${min}, ${max}]`)
  return v
}

export function str(name: string, v: unknown, maxLen = 10_000, allowEmpty = true): string {
  if (typeof v !== 'string') throw bad(name, 'a string')
  if (!allowEmpty && v.trim() === '') throw bad(name, 'a non-empty string')
  if (v.length > maxLen) throw bad(name, `a string of at most ${maxLen} characters`)
  return v
}

export function optional<T>(v: unknown, check: (v: unknown) => T): T | undefined {
  return v === undefined || v === null ? undefined : check(v)
}

export function record(name: string, v: unknown): Record<string, unknown> {
  if (!isRecord(v)) throw bad(name, 'an object')
  return v
}

/** Rejects keys the contract does not define, so typos surface instead of being ignored. */
export function onlyKeys(name: string, v: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) throw new ApiError(`argument '${name}' has unknown field '${k}'`)
  }
}

export function oneOf<T extends string>(name: string, v: unknown, options: readonly T[]): T {
  if (typeof v !== 'string' || !(options as readonly string[]).includes(v)) {
    throw bad(name, `one of ${options.map((o) => `'${o}'`).join(', ')}`)
  }
  return v as T
}

export function templates(name: string, v: unknown): PromptTemplates {
  const r = record(name, v)
  onlyKeys(name, r, DOCUMENT_KINDS)
  const out = {} as PromptTemplates
  for (const k of DOCUMENT_KINDS) out[k] = str(`${name}.${k}`, r[k], 2000)
  return out
}

export function columnMap(name: string, v: unknown): ColumnMap {
  const r = record(name, v)
  onlyKeys(name, r, ['user', 'item', 'rating', 'timestamp', 'text'])
  return {
    user: str(`${name}.user`, r.user, 200, false),
    item: str(`${name}.item`, r.item, 200, false),
    rating: optional(r.rating, (x) => str(`${name}.rating`, x, 200)),
    timestamp: optional(r.timestamp, (x) => str(`${name}.timestamp`, x, 200)),
    text: optional(r.text, (x) => str(`${name}.text`, x, 200)),
  }
}

export function runInput(name: string, v: unknown): RunInput {
  const r = record(name, v)
  onlyKeys(name, r, ['datasetId', 'name', 'preset', 'overrides', 'templates', 'backboneId', 'seed', 'sweep'])
  return {
    datasetId: id(`${name}.datasetId`, r.datasetId),
    name: optional(r.name, (x) => str(`${name}.name`, x, 200)),
    preset: oneOf(`${name}.preset`, r.preset, PRESET_NAMES),
    overrides: record(`${name}.overrides`, r.overrides),
    templates: templates(`${name}.templates`, r.templates),
    backboneId: str(`${name}.backboneId`, r.backboneId, 500, false),
    seed: int(`${name}.seed`, r.seed, 0, 2 ** 31 - 1),
    sweep: optional(r.sweep, (x) => str(`${name}.sweep`, x, 200, false)),
  }
}

export function sampling(name: string, v: unknown): Sampling {
  const r = record(name, v)
  onlyKeys(name, r, ['temperature', 'topK', 'seed'])
  const temperature = num(`${name}.temperature`, r.temperature, 0, 10)
  if (temperature === 0) throw bad(`${name}.temperature`, 'a number > 0 (leave sampling out for greedy)')
  return {
    temperature,
    topK: int(`${name}.topK`, r.topK, 0, 100_000),
    seed: int(`${name}.seed`, r.seed, 0, 2 ** 31 - 1),
  }
}

export function runMetaPatch(name: string, v: unknown): RunMetaPatch {
  const r = record(name, v)
  onlyKeys(name, r, ['name', 'tags', 'notes'])
  let tags: string[] | undefined
  if (r.tags !== undefined) {
    if (!Array.isArray(r.tags) || r.tags.length > 50)
      throw bad(`${name}.tags`, 'an array of at most 50 strings')
    tags = r.tags.map((t, i) => str(`${name}.tags[${i}]`, t, 50, false))
  }
  return {
    name: optional(r.name, (x) => str(`${name}.name`, x, 200, false)),
    tags,
    notes: optional(r.notes, (x) => str(`${name}.notes`, x, 10_000)),
  }
}

export const EVAL_SPLITS: readonly EvalSplit[] = ['test', 'val']

export function breakdownOptions(name: string, v: unknown): BreakdownOptions {
  const r = record(name, v)
  onlyKeys(name, r, ['multVae', 'multVaeEpochs'])
  if (r.multVae !== undefined && typeof r.multVae !== 'boolean') throw bad(`${name}.multVae`, 'a boolean')
  const out: BreakdownOptions = r.multVae === undefined ? {} : { multVae: r.multVae }
  if (r.multVaeEpochs !== undefined) {
    if (r.multVae !== true) throw bad(`${name}.multVaeEpochs`, 'given only with multVae: true')
    out.multVaeEpochs = int(`${name}.multVaeEpochs`, r.multVaeEpochs, 1, MAX_MULT_VAE_EPOCHS)
  }
  return out
}

/** Checks the argument count: extra arguments are an error, missing ones arrive as undefined. */
export function arity(method: string, args: unknown[], max: number): void {
  if (args.length > max) throw new ApiError(`${method} takes at most ${max} argument(s), got ${args.length}`)
}
