// Parser for Python literal syntax (dict, list, tuple, str, int/float, True/False/None), because the
// 2014 Amazon metadata files (meta_<Category>.json.gz) are written with Python's repr(), not JSON:
// single-quoted strings and True/None. Only literals: nothing is evaluated.

export class PyLiteralError extends Error {}

export function parsePythonLiteral(src: string): unknown {
  let i = 0
  const ws = () => {
    while (i < src.length && /\s/.test(src[i])) i++
  }
  const fail = (what: string): never => {
    throw new PyLiteralError(`${what} at column ${i + 1}`)
  }
  const str = (): string => {
    const q = src[i++]
    let out = ''
    for (;;) {
      if (i >= src.length) fail('unterminated string')
      const c = src[i++]
      if (c === q) return out
      if (c !== '\\') {
        out += c
        continue
      }
      const e = src[i++]
      const hex = (n: number) => {
        const h = src.slice(i, i + n)
        if (!/^[0-9a-fA-F]+$/.test(h) || h.length !== n) fail('bad escape')
        i += n
        return String.fromCodePoint(parseInt(h, 16))
      }
      if (e === 'n') out += '\n'
      else if (e === 't') out += '\t'
      else if (e === 'r') out += '\r'
      else if (e === '0') out += '\0'
      else if (e === 'x') out += hex(2)
      else if (e === 'u') out += hex(4)
      else if (e === 'U') out += hex(8)
      else if (e === '\n') continue
      else out += e // \\ \' \" and unknown escapes keep the character
    }
  }
  const seq = (close: string): unknown[] => {
    const out: unknown[] = []
    ws()
    while (src[i] !== close) {
      out.push(value())
      ws()
      if (src[i] === ',') {
        i++
        ws()
      } else if (src[i] !== close) fail(`expected ',' or '${close}'`)
    }
    i++
    return out
  }
  const value = (): unknown => {
    ws()
    const c = src[i]
    if (c === "'" || c === '"') return str()
    if (c === '[') {
      i++
      return seq(']')
    }
    if (c === '(') {
      i++
      return seq(')')
    }
    if (c === '{') {
      i++
      const out: Record<string, unknown> = {}
      ws()
      while (src[i] !== '}') {
        const k = value()
        ws()
        if (src[i++] !== ':') fail("expected ':'")
        out[String(k)] = value()
        ws()
        if (src[i] === ',') {
          i++
          ws()
        } else if (src[i] !== '}') fail("expected ',' or '}'")
      }
      i++
      return out
    }
    const m = /^(True|False|None|-?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+))/.exec(src.slice(i, i + 64))
    if (!m) fail('unexpected character')
    i += m![0].length
    if (m![0] === 'True') return true
    if (m![0] === 'False') return false
    if (m![0] === 'None') return null
    return Number(m![0])
  }
  const v = value()
  ws()
  if (i !== src.length) fail('trailing characters')
  return v
}
