// Shared argv parser for every CLI command module: `--name value` / `--name=value` / boolean `--flag`,
// typed by a spec; unknown flags and bad values are errors that list what the command accepts.
/** A command gets the argv after its name and resolves to the process exit code. */
export type CommandHandler = (argv: string[]) => Promise<number>
/** A module's commands: a bare handler, or a handler with a one-line help shown in the command list. */
export type CommandTable = Record<string, CommandHandler | { help: string; run: CommandHandler }>

export type FlagType = 'string' | 'int' | 'number' | 'boolean'

export interface FlagSpec {
  type: FlagType
  help: string
  required?: boolean
  /** Allowed values for a string flag. */
  choices?: readonly string[]
}

export type FlagSpecs = Record<string, FlagSpec>

type ValueOf<S extends FlagSpec> = S['type'] extends 'boolean'
  ? boolean
  : S['type'] extends 'string'
    ? string
    : number
export type ParsedFlags<T extends FlagSpecs> = { [K in keyof T]?: ValueOf<T[K]> }

export class UsageError extends Error {}

export function usage(command: string, specs: FlagSpecs): string {
  const lines = Object.entries(specs).map(([name, s]) => {
    const value = s.type === 'boolean' ? '' : s.choices ? ` <${s.choices.join('|')}>` : ` <${s.type}>`
    return `  --${name}${value}${s.required ? ' (required)' : ''}  ${s.help}`
  })
  return `usage: ${command} [flags]\n${lines.join('\n')}`
}

/** Parse argv against specs. Throws UsageError naming the flag and listing the known ones. */
export function parseArgs<T extends FlagSpecs>(command: string, argv: string[], specs: T): ParsedFlags<T> {
  const out: Record<string, unknown> = {}
  const known = () =>
    Object.keys(specs)
      .map((k) => `--${k}`)
      .join(', ')
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (!arg.startsWith('--'))
      throw new UsageError(`${command}: unexpected argument "${arg}" (flags: ${known()})`)
    const eq = arg.indexOf('=')
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2)
    const spec = specs[name]
    if (!spec) throw new UsageError(`${command}: unknown flag --${name} (known flags: ${known()})`)
    if (name in out) throw new UsageError(`${command}: --${name} given twice`)
    let raw: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined
    if (spec.type === 'boolean') {
      if (raw !== undefined && raw !== 'true' && raw !== 'false')
        throw new UsageError(`${command}: --${name} takes no value (or =true/=false)`)
      out[name] = raw !== 'false'
      continue
    }
    if (raw === undefined) {
      raw = argv[++i]
      if (raw === undefined) throw new UsageError(`${command}: --${name} needs a value`)
    }
    if (spec.type === 'string') {
      if (spec.choices && !spec.choices.includes(raw)) {
        throw new UsageError(`${command}: --${name} must be one of ${spec.choices.join(', ')}, got "${raw}"`)
      }
      out[name] = raw
    } else {
      const n = Number(raw)
      if (raw.trim() === '' || !Number.isFinite(n) || (spec.type === 'int' && !Number.isInteger(n))) {
        throw new UsageError(
          `${command}: --${name} must be ${spec.type === 'int' ? 'an integer' : 'a number'}, got "${raw}"`,
        )
      }
      out[name] = n
    }
  }
  for (const [name, s] of Object.entries(specs)) {
    if (s.required && !(name in out))
      throw new UsageError(`${command}: missing required flag --${name}\n${usage(command, specs)}`)
  }
  return out as ParsedFlags<T>
}
