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

/** Marks "this opcode is not in my group" for the opcode-group methods below. */
const UNHANDLED = Symbol('unhandled')

/** One pickle's stack machine: byte readers, then the opcode groups it accepts (plain data only). */
class PickleMachine {
  private readonly dv: DataView
  private readonly td = new TextDecoder('utf-8', { fatal: true })
  readonly stack: StackItem[] = []
  private readonly memo: PickleValue[] = []
  p = 0
  private elements = 0

  constructor(
    private readonly buf: Uint8Array,
    private readonly file: string,
    readonly limits: PickleLimits,
  ) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }

  fail(why: string): never {
    throw new DataError(`pickle refused at byte ${this.p}: ${why}`, { file: this.file })
  }

  private error(message: string): never {
    throw new DataError(message, { file: this.file })
  }

  // ---- byte readers ----
  private need(n: number): void {
    if (this.p + n > this.buf.length) this.error(`truncated pickle at byte ${this.p}`)
  }
  u8(): number {
    this.need(1)
    return this.buf[this.p++]
  }
  /** Claims the next n bytes and returns where they start. */
  private take(n: number): number {
    this.need(n)
    this.p += n
    return this.p - n
  }
  private u16(): number {
    return this.dv.getUint16(this.take(2), true)
  }
  private u32(): number {
    return this.dv.getUint32(this.take(4), true)
  }
  private i32(): number {
    return this.dv.getInt32(this.take(4), true)
  }
  private f64be(): number {
    return this.dv.getFloat64(this.take(8), false)
  }
  u64(): number {
    this.need(8)
    const v = this.dv.getBigUint64(this.p, true)
    this.p += 8
    if (v > BigInt(this.buf.length)) this.error(`truncated pickle: length ${v} exceeds file size`)
    return Number(v)
  }
  private bytes(n: number): Uint8Array {
    const start = this.take(n)
    return this.buf.subarray(start, start + n)
  }
  private str(n: number): string {
    try {
      return this.td.decode(this.bytes(n))
    } catch {
      this.error(`invalid UTF-8 in pickle string at byte ${this.p - n}`)
    }
  }
  private long(n: number): number | bigint {
    if (n > this.limits.maxLongBytes) this.fail(`a ${n}-byte integer (at most ${this.limits.maxLongBytes})`)
    return signedLE(this.bytes(n))
  }

  // ---- stack ----
  pop(): PickleValue {
    const v = this.stack.pop()
    if (v === undefined || v === MARK) this.error(`pickle stack underflow at byte ${this.p}`)
    return v
  }
  private popMark(): PickleValue[] {
    const i = this.stack.lastIndexOf(MARK)
    if (i < 0) this.error(`pickle MARK missing at byte ${this.p}`)
    const items = this.stack.splice(i) as PickleValue[]
    items.shift()
    return items
  }
  private top(): PickleValue {
    const v = this.stack[this.stack.length - 1]
    if (v === undefined || v === MARK) this.error(`pickle stack empty at byte ${this.p}`)
    return v
  }
  private grow(n: number): void {
    this.elements += n
    if (this.elements > this.limits.maxElements) this.fail(`more than ${this.limits.maxElements} elements`)
  }
  private key(k: PickleValue): PickleValue {
    return Array.isArray(k) ? keyString(k, this.limits, (why) => this.fail(why)) : k
  }
  private memoIndex(i: number): number {
    if (i > this.limits.maxMemo) this.fail(`memo index ${i} beyond ${this.limits.maxMemo}`)
    return i
  }

  // ---- opcode groups: each returns UNHANDLED for an opcode outside it ----

  /** Constants, numbers, strings and bytes: the value to push. */
  scalar(op: number): PickleValue | typeof UNHANDLED {
    switch (op) {
      case 0x7d: // EMPTY_DICT
        return new Map()
      case 0x5d: // EMPTY_LIST
      case 0x29: // EMPTY_TUPLE
        return []
      case 0x8f: // EMPTY_SET
        return new Set()
      case 0x4e:
        return null
      case 0x88:
        return true
      case 0x89:
        return false
      case 0x4b: // BININT1
        return this.u8()
      case 0x4d: // BININT2
        return this.u16()
      case 0x4a: // BININT
        return this.i32()
      case 0x8a: // LONG1
        return this.long(this.u8())
      case 0x8b: // LONG4
        return this.long(this.u32())
      case 0x47: // BINFLOAT (big-endian)
        return this.f64be()
      case 0x8c: // SHORT_BINUNICODE
      case 0x55: // SHORT_BINSTRING
        return this.str(this.u8())
      case 0x58: // BINUNICODE
      case 0x54: // BINSTRING
        return this.str(this.u32())
      case 0x8d: // BINUNICODE8
        return this.str(this.u64())
      case 0x43: // SHORT_BINBYTES
        return this.bytes(this.u8()).slice()
      case 0x42: // BINBYTES
        return this.bytes(this.u32()).slice()
      case 0x8e: // BINBYTES8
        return this.bytes(this.u64()).slice()
      default:
        return UNHANDLED
    }
  }

  /** MEMOIZE, the PUTs and GETs; false for any other opcode. */
  memoOp(op: number): boolean {
    switch (op) {
      case 0x94: // MEMOIZE
        this.memoIndex(this.memo.length)
        this.memo.push(this.top())
        return true
      case 0x71: // BINPUT
        this.memo[this.u8()] = this.top()
        return true
      case 0x72: // LONG_BINPUT
        this.memo[this.memoIndex(this.u32())] = this.top()
        return true
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const i = op === 0x68 ? this.u8() : this.u32()
        if (!(i in this.memo)) this.error(`pickle memo ${i} undefined at byte ${this.p}`)
        this.stack.push(this.memo[i])
        return true
      }
      default:
        return false
    }
  }

  /** Filling dicts, lists and sets on the stack; false for any other opcode. */
  fill(op: number): boolean {
    switch (op) {
      case 0x73: {
        // SETITEM
        const v = this.pop()
        const k = this.pop()
        this.grow(1)
        this.asDict(this.top()).set(this.key(k), v)
        return true
      }
      case 0x75: {
        // SETITEMS
        const items = this.popMark()
        const d = this.asDict(this.top())
        this.grow(items.length >> 1)
        for (let i = 0; i + 1 < items.length; i += 2) d.set(this.key(items[i]), items[i + 1])
        return true
      }
      case 0x61: {
        // APPEND
        const v = this.pop()
        this.grow(1)
        this.asList(this.top()).push(v)
        return true
      }
      case 0x65: {
        // APPENDS
        const items = this.popMark()
        const l = this.asList(this.top())
        this.grow(items.length)
        // A loop, not push(...items): 300k spread arguments overflow the call stack.
        for (const x of items) l.push(x)
        return true
      }
      case 0x90: {
        // ADDITEMS
        const items = this.popMark()
        const s = this.top()
        this.grow(items.length)
        if (s instanceof Set) items.forEach((x) => s.add(this.key(x)))
        return true
      }
      default:
        return false
    }
  }

  /** Tuples and frozensets built from the stack; false for any other opcode. */
  build(op: number): boolean {
    switch (op) {
      case 0x91: {
        // FROZENSET
        const items = this.popMark()
        this.grow(items.length)
        this.stack.push(new Set(items.map((x) => this.key(x))))
        return true
      }
      case 0x74: {
        // TUPLE
        const items = this.popMark()
        this.grow(items.length)
        this.stack.push(items)
        return true
      }
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: {
        // TUPLE3
        const n = op - 0x84
        const items = Array.from({ length: n }, () => this.pop()).reverse()
        this.grow(n)
        this.stack.push(items)
        return true
      }
      default:
        return false
    }
  }

  private asDict(v: PickleValue): Map<PickleValue, PickleValue> {
    if (!(v instanceof Map)) this.error(`pickle SETITEM on a non-dict at byte ${this.p}`)
    return v
  }
  private asList(v: PickleValue): PickleValue[] {
    if (!Array.isArray(v)) this.error(`pickle APPEND on a non-list at byte ${this.p}`)
    return v
  }
}

export function readPickle(
  buf: Uint8Array,
  file = '<pickle>',
  limits: PickleLimits = PICKLE_LIMITS,
): PickleValue {
  const m = new PickleMachine(buf, file, limits)
  const deadline = Date.now() + limits.maxMs
  for (let ops = 1; ; ops++) {
    if ((ops & 0xfff) === 0 && Date.now() > deadline) m.fail(`took longer than ${limits.maxMs} ms`)
    const op = m.u8()
    if (op === 0x2e) return m.pop() // STOP
    if (op === 0x80)
      m.u8() // PROTO
    else if (op === 0x95)
      m.u64() // FRAME (length only; the whole buffer is read)
    else if (op === 0x28) m.stack.push(MARK)
    else {
      const v = m.scalar(op)
      if (v !== UNHANDLED) m.stack.push(v)
      else if (!m.memoOp(op) && !m.fill(op) && !m.build(op))
        throw new DataError(
          `unsupported pickle opcode 0x${op.toString(16)} at byte ${m.p - 1} (only plain data is accepted; ` +
            'objects that need Python classes are refused)',
          { file },
        )
    }
  }
}
