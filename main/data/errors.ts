// Data-layer errors: every bad-input failure names the file, and the line and field where there is one,
// so a researcher can open the file at the right place (GUIDE: "Bad input -> clear error").

export interface DataErrorLocation {
  file?: string
  line?: number
  field?: string
}

export class DataError extends Error {
  readonly file?: string
  readonly line?: number
  readonly field?: string

  constructor(message: string, where: DataErrorLocation = {}) {
    const parts: string[] = []
    if (where.file) parts.push(where.file)
    if (where.line !== undefined) parts.push(`line ${where.line}`)
    if (where.field) parts.push(`field '${where.field}'`)
    super(parts.length ? `${parts.join(', ')}: ${message}` : message)
    this.name = 'DataError'
    this.file = where.file
    this.line = where.line
    this.field = where.field
  }
}

/** Thrown when an AbortSignal cancels long work; callers can tell it apart from bad input. */
export class AbortError extends Error {
  constructor(message = 'import cancelled') {
    super(message)
    this.name = 'AbortError'
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError()
}
