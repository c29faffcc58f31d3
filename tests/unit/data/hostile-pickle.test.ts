// Hostile pickles (assembled here, a few hundred bytes each): every one ends fast with a message naming
// the file; legitimately long lists still load.
import { describe, expect, it } from 'vitest'
import { PICKLE_LIMITS, readPickle } from '../../../main/data/formats/pickle'

const PROTO = [0x80, 0x04]
const STOP = 0x2e
const op = {
  EMPTY_DICT: 0x7d,
  EMPTY_LIST: 0x5d,
  EMPTY_TUPLE: 0x29,
  MARK: 0x28,
  MEMOIZE: 0x94,
  BINGET: 0x68,
  TUPLE3: 0x87,
  APPEND: 0x61,
  APPENDS: 0x65,
  SETITEM: 0x73,
  BININT1: 0x4b,
  LONG_BINPUT: 0x72,
  LONG4: 0x8b,
}
const pk = (...bytes: number[]) => Buffer.from([...PROTO, ...bytes, STOP])

function timed(fn: () => unknown): { message: string; ms: number } {
  const t0 = performance.now()
  try {
    fn()
    return { message: '(no error)', ms: performance.now() - t0 }
  } catch (err) {
    return { message: (err as Error).message, ms: performance.now() - t0 }
  }
}

describe('hostile pickles', () => {
  it('a dict key that contains itself', () => {
    // {L: 1} where L = [L]
    const b = pk(op.EMPTY_DICT, op.EMPTY_LIST, op.MEMOIZE, op.BINGET, 0, op.APPEND, op.BININT1, 1, op.SETITEM)
    expect(() => readPickle(b, 'meta.pkl')).toThrow(
      /^meta\.pkl: pickle refused at byte \d+: a dict key that contains itself$/,
    )
  })

  it('a 223-byte tuple bomb used as a dict key fails in milliseconds', () => {
    // t0 = (); t(k+1) = (tk, tk, tk): 3^25 leaves from 25 levels of memo references.
    const levels: number[] = []
    // t(k) is on the stack after MEMOIZE; two BINGETs give the other two elements.
    for (let k = 0; k < 25; k++) levels.push(op.BINGET, k, op.BINGET, k, op.TUPLE3, op.MEMOIZE)
    const b = pk(op.EMPTY_DICT, op.EMPTY_TUPLE, op.MEMOIZE, ...levels, op.BININT1, 1, op.SETITEM)
    expect(b.length).toBeLessThan(224)
    const r = timed(() => readPickle(b, 'bomb.pkl'))
    expect(r.message).toMatch(
      /^bomb\.pkl: pickle refused at byte \d+: a dict key (longer than 65536 characters|nested deeper than 32)$/,
    )
    expect(r.ms).toBeLessThan(1000)
  })

  it('300k APPENDS load as a list (no call-stack overflow)', () => {
    const ones = Buffer.alloc(600_000)
    for (let i = 0; i < ones.length; i += 2) ones.set([op.BININT1, 1], i)
    const b = Buffer.concat([
      Buffer.from([...PROTO, op.EMPTY_LIST, op.MARK]),
      ones,
      Buffer.from([op.APPENDS, STOP]),
    ])
    const v = readPickle(b, 'big.pkl') as number[]
    expect(v.length).toBe(300_000)
    expect(v[299_999]).toBe(1)
  })

  it('a memo index of 4 billion, a 1 MB integer, too many elements and too much time', () => {
    expect(() => readPickle(pk(op.EMPTY_LIST, op.LONG_BINPUT, 0xff, 0xff, 0xff, 0xff), 'm.pkl')).toThrow(
      /^m\.pkl: pickle refused at byte 8: memo index 4294967295 beyond 50000000$/,
    )
    const len = Buffer.alloc(4)
    len.writeUInt32LE(1 << 20)
    const long = Buffer.concat([
      Buffer.from([...PROTO, op.LONG4]),
      len,
      Buffer.alloc(1 << 20),
      Buffer.from([STOP]),
    ])
    expect(() => readPickle(long, 'l.pkl')).toThrow(
      /^l\.pkl: pickle refused at byte \d+: a 1048576-byte integer/,
    )
    const many = pk(op.EMPTY_LIST, ...new Array(100).fill([op.BININT1, 1, op.APPEND]).flat())
    expect(() => readPickle(many, 'e.pkl', { ...PICKLE_LIMITS, maxElements: 50 })).toThrow(
      /^e\.pkl: pickle refused at byte \d+: more than 50 elements$/,
    )
    const slow = pk(op.EMPTY_LIST, ...new Array(10_000).fill([op.BININT1, 1, op.APPEND]).flat())
    expect(() => readPickle(slow, 's.pkl', { ...PICKLE_LIMITS, maxMs: -1 })).toThrow(
      /^s\.pkl: pickle refused at byte \d+: took longer than -1 ms$/,
    )
  })
})
