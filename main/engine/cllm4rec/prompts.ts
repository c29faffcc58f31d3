// Hard-prompt templates (CLLM4REC.md §2) as data: stored with a run, editable in the UI, validated.
// Placeholders: {user} -> <user_i>, {item} -> <item_j>, {items} -> space-joined item tokens.

export interface PromptTemplates {
  /** Collaborative LLM prompt; main text = the user's training items. */
  collaborative: string
  /** Content LLM prompt for a review; main text = review text. */
  review: string
  /** Content LLM prompt for item text (title/description/tags). */
  itemText: string
  /** Content LLM prompt for user profile text. */
  userText: string
  /** RecLLM prompt; no main text (multi-hot target). */
  recommendation: string
}

export type PromptKind = keyof PromptTemplates

export const DEFAULT_PROMPTS: Readonly<PromptTemplates> = Object.freeze({
  collaborative: '{user} has interacted with',
  review: '{user} writes the following review for {item}:',
  itemText: '{item} is described as:',
  userText: '{user} is described as:',
  recommendation: '{user} has interacted with {items}, the user will interact with',
})

/**
 * The authors' code names the user twice in the RecLLM prompt ("..., user_i will interact with");
 * the paper says "the user". Both are built-in prompt presets.
 */
export const OFFICIAL_PROMPTS: Readonly<PromptTemplates> = Object.freeze({
  ...DEFAULT_PROMPTS,
  recommendation: '{user} has interacted with {items}, {user} will interact with',
})

export const PROMPT_PRESETS: Readonly<Record<'paper' | 'official', Readonly<PromptTemplates>>> =
  Object.freeze({
    paper: DEFAULT_PROMPTS,
    official: OFFICIAL_PROMPTS,
  })

export const REQUIRED_PLACEHOLDERS: Readonly<Record<PromptKind, readonly string[]>> = Object.freeze({
  collaborative: ['user'],
  review: ['user', 'item'],
  itemText: ['item'],
  userText: ['user'],
  recommendation: ['user', 'items'],
})

const PLACEHOLDER = /\{([^{}]*)\}/g

export function placeholdersOf(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1])
}

/** Throws naming the template and placeholder when a template is malformed. */
export function validateTemplate(kind: PromptKind, template: string): void {
  if (typeof template !== 'string') throw new Error(`prompts.${kind}: must be a string`)
  const required = REQUIRED_PLACEHOLDERS[kind]
  const found = placeholdersOf(template)
  for (const p of found) {
    if (!required.includes(p)) {
      throw new Error(
        `prompts.${kind}: unknown placeholder {${p}} (allowed: ${required.map((r) => `{${r}}`).join(', ')})`,
      )
    }
  }
  for (const r of required) {
    const n = found.filter((p) => p === r).length
    if (n === 0) throw new Error(`prompts.${kind}: placeholder {${r}} is required`)
    // {user}/{item} may be repeated (a soft token can be named twice); the item list may not.
    if (r === 'items' && n > 1)
      throw new Error(`prompts.${kind}: placeholder {items} must appear exactly once`)
  }
  if (/<(user|item)_\d+>/.test(template))
    throw new Error(`prompts.${kind}: use placeholders, not literal soft tokens`)
  const stray = template.replace(PLACEHOLDER, '')
  if (/[{}]/.test(stray)) throw new Error(`prompts.${kind}: unbalanced brace`)
}

export function validateTemplates(t: PromptTemplates): PromptTemplates {
  if (typeof t !== 'object' || t === null) throw new Error('prompts: must be an object')
  for (const k of Object.keys(t)) {
    if (!(k in REQUIRED_PLACEHOLDERS)) throw new Error(`prompts: unknown template "${k}"`)
  }
  for (const k of Object.keys(REQUIRED_PLACEHOLDERS) as PromptKind[]) validateTemplate(k, t[k])
  return t
}

/** Substitutes placeholders with soft-token text. */
export function fillTemplate(
  template: string,
  values: { user?: number; item?: number; items?: number[] },
): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    if (name === 'user' && values.user !== undefined) return `<user_${values.user}>`
    if (name === 'item' && values.item !== undefined) return `<item_${values.item}>`
    if (name === 'items' && values.items !== undefined)
      return values.items.map((j) => `<item_${j}>`).join(' ')
    throw new Error(`template placeholder {${name}} has no value`)
  })
}

/**
 * The hard-text segments of a template exactly as documents encode them: split at placeholders, a
 * segment before a soft token right-stripped (the tokenizer's rule), whitespace-only ones dropped.
 */
export function hardSegments(template: string): string[] {
  const segs = template.split(PLACEHOLDER)
  // split() with a capture group interleaves the placeholder names: keep the even entries.
  const text = segs.filter((_, i) => i % 2 === 0)
  return text.map((seg, i) => (i < text.length - 1 ? seg.trimEnd() : seg)).filter((seg) => seg.trim() !== '')
}
