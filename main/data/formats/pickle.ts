// Minimal, safe Python pickle reader (protocols 2-5) for CLLM4Rec's meta.pkl / *_dict.pkl: dicts,
// lists, tuples, sets, ints (incl. LONG1/LONG4), floats, strings, bytes, None/bools and the memo.
// Anything that would import or call Python code (GLOBAL, REDUCE, BUILD, ...) is rejected: a pickle
// from the internet must never be able to run anything, and we only need plain data.
import { DataError } from '../errors'

export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | Map<PickleValue, PickleValue>
  | Set<PickleValue>

const MARK = Symbol('mark')
type StackItem = PickleValue | typeof MARK

/** Limits against hostile pickles (a few bytes can reference themselves into exponential size). */
export interface PickleLimits {
  /** Elements put into containers, in total. */
  maxElements: number
  /** Highest memo index. */
  maxMemo: number
  /** Nesting depth and serialised length of a tuple used as a dict key. */
  maxKeyDepth: number
  maxKeyChars: number
  /** Bytes of one LONG1/LONG4 integer (decoding is quadratic in it). */
  maxLongBytes: number
  /** Wall-clock budget. */
  maxMs: number
}

export const PICKLE_LIMITS: PickleLimits = {
  maxElements: 50_000_000,
  maxMemo: 50_000_000,
  maxKeyDepth: 32,
  maxKeyChars: 1 << 16,
  maxLongBytes: 1024,
  maxMs: 30_000,
}

/**
 * Tuples/lists as dict keys cannot be compared by identity; keep them as strings (JSON-like), built
 * with a depth and length budget: a cyclic or exponentially shared key is an error, not a hang.
 */
function keyString(k: PickleValue[], limits: PickleLimits, fail: (why: string) => never): string {
  let out = ''
  const seen = new Set<PickleValue[]>()
  const walk = (v: PickleValue, depth: number): void => {
    if (out.length > limits.maxKeyChars) fail(`a dict key longer than ${limits.maxKeyChars} characters`)
    if (Array.isArray(v)) {
      if (seen.has(v)) fail('a dict key that contains itself')
      if (depth >= limits.maxKeyDepth) fail(`a dict key nested deeper than ${limits.maxKeyDepth}`)
      seen.add(v)
      out += '['
      v.forEach((x, i) => {
        if (i) out += ','
        walk(x, depth + 1)
      })
      out += ']'
      seen.delete(v)
    } else if (typeof v === 'bigint') out += `"${v}"`
    else if (v instanceof Map || v instanceof Set) fail('an unhashable dict key (dict or set)')
    else out += JSON.stringify(v instanceof Uint8Array ? Array.from(v) : v) ?? 'null'
  }
  walk(k, 0)
  return out
}

function signedLE(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0
  let v = 0n
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i])
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length)
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v
}

export function readPickle(
  buf: Uint8Array,
  file = '<pickle>',
  limits: PickleLimits = PICKLE_LIMITS,
): PickleValue {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const td = new TextDecoder('utf-8', { fatal: true })
  const stack: StackItem[] = []
  const memo: PickleValue[] = []
  let p = 0
  let elements = 0
  const deadline = Date.now() + limits.maxMs
  const fail = (why: string): never => {
    throw new DataError(`pickle refused at byte ${p}: ${why}`, { file })
  }
  const grow = (n: number) => {
    elements += n
    if (elements > limits.maxElements) fail(`more than ${limits.maxElements} elements`)
  }
  const key = (k: PickleValue): PickleValue => (Array.isArray(k) ? keyString(k, limits, fail) : k)
  const memoIndex = (i: number) => {
    if (i > limits.maxMemo) fail(`memo index ${i} beyond ${limits.maxMemo}`)
    return i
  }
  const long = (n: number) => {
    if (n > limits.maxLongBytes) fail(`a ${n}-byte integer (at most ${limits.maxLongBytes})`)
    return signedLE(bytes(n))
  }
  const need = (n: number) => {
    if (p + n > buf.length) throw new DataError(`truncated pickle at byte ${p}`, { file })
  }
  const u8 = () => (need(1), buf[p++])
  const u16 = () => (need(2), (p += 2), dv.getUint16(p - 2, true))
  const u32 = () => (need(4), (p += 4), dv.getUint32(p - 4, true))
  const u64 = () => {
    need(8)
    const v = dv.getBigUint64(p, true)
    p += 8
    if (v > BigInt(buf.length))
      throw new DataError(`truncated pickle: length ${v} exceeds file size`, { file })
    return Number(v)
  }
  const bytes = (n: number) => (need(n), (p += n), buf.subarray(p - n, p))
  const str = (n: number) => {
    try {
      return td.decode(bytes(n))
    } catch {
      throw new DataError(`invalid UTF-8 in pickle string at byte ${p - n}`, { file })
    }
  }
  const pop = (): PickleValue => {
    const v = stack.pop()
    if (v === undefined || v === MARK) throw new DataError(`pickle stack underflow at byte ${p}`, { file })
    return v
  }
  const popMark = (): PickleValue[] => {
    const i = stack.lastIndexOf(MARK)
    if (i < 0) throw new DataError(`pickle MARK missing at byte ${p}`, { file })
    const items = stack.splice(i) as PickleValue[]
    items.shift()
    return items
  }
  const top = (): PickleValue => {
    const v = stack[stack.length - 1]
    if (v === undefined || v === MARK) throw new DataError(`pickle stack empty at byte ${p}`, { file })
    return v
  }
  const asDict = (v: PickleValue) => {
    if (!(v instanceof Map)) throw new DataError(`pickle SETITEM on a non-dict at byte ${p}`, { file })
    return v
  }
  const asList = (v: PickleValue) => {
    if (!Array.isArray(v)) throw new DataError(`pickle APPEND on a non-list at byte ${p}`, { file })
    return v
  }
  for (let ops = 1; ; ops++) {
    if ((ops & 0xfff) === 0 && Date.now() > deadline) fail(`took longer than ${limits.maxMs} ms`)
    const op = u8()
    switch (op) {
      case 0x80:
        u8()
        break // PROTO
      case 0x95:
        u64()
        break // FRAME (length only; we read the whole buffer)
      case 0x2e:
        return pop() // STOP
      case 0x28:
        stack.push(MARK)
        break
      case 0x7d:
        stack.push(new Map())
        break // EMPTY_DICT
      case 0x5d:
        stack.push([])
        break // EMPTY_LIST
      case 0x29:
        stack.push([])
        break // EMPTY_TUPLE
      case 0x8f:
        stack.push(new Set())
        break // EMPTY_SET
      case 0x4e:
        stack.push(null)
        break
      case 0x88:
        stack.push(true)
        break
      case 0x89:
        stack.push(false)
        break
      case 0x4b:
        stack.push(u8())
        break // BININT1
      case 0x4d:
        stack.push(u16())
        break // BININT2
      case 0x4a:
        need(4)
        stack.push(dv.getInt32(p, true))
        p += 4
        break // BININT
      case 0x8a:
        stack.push(long(u8()))
        break // LONG1
      case 0x8b:
        stack.push(long(u32()))
        break // LONG4
      case 0x47:
        need(8)
        stack.push(dv.getFloat64(p, false))
        p += 8
        break // BINFLOAT (big-endian)
      case 0x8c:
        stack.push(str(u8()))
        break // SHORT_BINUNICODE
      case 0x58:
        stack.push(str(u32()))
        break // BINUNICODE
      case 0x8d:
        stack.push(str(u64()))
        break // BINUNICODE8
      case 0x55:
        stack.push(str(u8()))
        break // SHORT_BINSTRING
      case 0x54:
        stack.push(str(u32()))
        break // BINSTRING
      case 0x43:
        stack.push(bytes(u8()).slice())
        break // SHORT_BINBYTES
      case 0x42:
        stack.push(bytes(u32()).slice())
        break // BINBYTES
      case 0x8e:
        stack.push(bytes(u64()).slice())
        break // BINBYTES8
      case 0x94:
        memoIndex(memo.length)
        memo.push(top())
        break // MEMOIZE
      case 0x71:
        memo[u8()] = top()
        break // BINPUT
      case 0x72:
        memo[memoIndex(u32())] = top()
        break // LONG_BINPUT
      case 0x68:
      case 0x6a: {
        // BINGET / LONG_BINGET
        const i = op === 0x68 ? u8() : u32()
        if (!(i in memo)) throw new DataError(`pickle memo ${i} undefined at byte ${p}`, { file })
        stack.push(memo[i])
        break
      }
      case 0x73: {
        const v = pop()
        const k = pop()
        grow(1)
        asDict(top()).set(key(k), v)
        break
      } // SETITEM
      case 0x75: {
        // SETITEMS
        const items = popMark()
        const d = asDict(top())
        grow(items.length >> 1)
        for (let i = 0; i + 1 < items.length; i += 2) d.set(key(items[i]), items[i + 1])
        break
      }
      case 0x61: {
        const v = pop()
        grow(1)
        asList(top()).push(v)
        break
      } // APPEND
      case 0x65: {
        const items = popMark()
        const l = asList(top())
        grow(items.length)
        // A loop, not push(...items): 300k spread arguments overflow the call stack.
        for (const x of items) l.push(x)
        break
      } // APPENDS
      case 0x90: {
        const items = popMark()
        const s = top()
        grow(items.length)
        if (s instanceof Set) items.forEach((x) => s.add(key(x)))
        break
      }
      case 0x91: {
        const items = popMark()
        grow(items.length)
        stack.push(new Set(items.map(key)))
        break
      } // FROZENSET
      case 0x74: {
        const items = popMark()
        grow(items.length)
        stack.push(items)
        break
      } // TUPLE
      case 0x85:
        grow(1)
        stack.push([pop()])
        break
      case 0x86: {
        const b = pop()
        const a = pop()
        grow(2)
        stack.push([a, b])
        break
      }
      case 0x87: {
        const c = pop()
        const b = pop()
        const a = pop()
        grow(3)
        stack.push([a, b, c])
        break
      }
      default:
        throw new DataError(
          `unsupported pickle opcode 0x${op.toString(16)} at byte ${p - 1} (only plain data is accepted; ` +
            'objects that need Python classes are refused)',
          { file },
        )
    }
  }
}
