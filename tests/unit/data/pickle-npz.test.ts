import { describe, expect, it } from 'vitest'
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { readPickle } from '../../../main/data/formats/pickle'
import { readCsrNpz, readNpy, readZip } from '../../../main/data/formats/npz'

const BEAUTY = path.resolve(__dirname, '../../../../shared/data/amazon-cllm4rec/beauty')

describe('readPickle', () => {
  it('reads CLLM4Rec meta.pkl (protocol 4)', () => {
    const v = readPickle(fs.readFileSync(`${BEAUTY}/original/meta.pkl`)) as Map<string, number>
    expect(v.get('num_users')).toBe(10553)
    expect(v.get('num_items')).toBe(6086)
  })

  it('reads val_dict.pkl (protocol 3, int keys, memo) identically to val_dict.json', () => {
    const v = readPickle(fs.readFileSync(`${BEAUTY}/original/val_dict.pkl`)) as Map<number, number[]>
    const json = JSON.parse(fs.readFileSync(`${BEAUTY}/converted/val_dict.json`, 'utf8')) as Record<
      string,
      number[]
    >
    expect(v.size).toBe(Object.keys(json).length)
    for (const [k, items] of Object.entries(json)) expect(v.get(Number(k))).toEqual(items)
  })

  it('decodes LONG1, floats, tuples, bools, None and the memo', () => {
    // Hand-assembled protocol-2 pickle of (2**70, -1.5, True, None, 'é', -1, 'é'): the last item
    // is fetched from the memo (BINGET), as pickle does for repeated objects.
    const bytes = Buffer.concat([
      Buffer.from([0x80, 0x02, 0x28]), // PROTO 2, MARK
      Buffer.from([0x8a, 0x09]), // LONG1, 9 bytes little-endian
      Buffer.from('000000000000000040', 'hex'),
      Buffer.from([0x47]), // BINFLOAT (big-endian)
      Buffer.from('bff8000000000000', 'hex'),
      Buffer.from([0x88, 0x4e]), // NEWTRUE, NONE
      Buffer.from([0x8c, 0x02, 0xc3, 0xa9, 0x71, 0x00]), // SHORT_BINUNICODE 'é', BINPUT 0
      Buffer.from([0x4a, 0xff, 0xff, 0xff, 0xff]), // BININT -1
      Buffer.from([0x68, 0x00]), // BINGET 0
      Buffer.from([0x74, 0x2e]), // TUPLE, STOP
    ])
    expect(readPickle(bytes)).toEqual([2n ** 70n, -1.5, true, null, 'é', -1, 'é'])
  })

  it('refuses code-executing opcodes and truncated input', () => {
    // GLOBAL 'os\nsystem\n'
    const evil = Buffer.concat([
      Buffer.from([0x80, 0x02, 0x63]),
      Buffer.from('os\nsystem\n'),
      Buffer.from([0x2e]),
    ])
    expect(() => readPickle(evil, 'evil.pkl')).toThrow(/evil\.pkl: unsupported pickle opcode 0x63/)
    const meta = fs.readFileSync(`${BEAUTY}/original/meta.pkl`)
    expect(() => readPickle(meta.subarray(0, 20), 'meta.pkl')).toThrow(/meta\.pkl: truncated pickle/)
  })
})

/** A hand-made stored (method 0) zip, to test the non-deflate path and CRC checking. */
function storedZip(entries: [string, Buffer][], corrupt = false): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let off = 0
  for (const [name, data] of entries) {
    const n = Buffer.from(name)
    const crc = zlib.crc32(data)
    const lh = Buffer.alloc(30)
    lh.writeUInt32LE(0x04034b50, 0)
    lh.writeUInt32LE(crc, 14)
    lh.writeUInt32LE(data.length, 18)
    lh.writeUInt32LE(data.length, 22)
    lh.writeUInt16LE(n.length, 26)
    const body = Buffer.from(data)
    if (corrupt) body[body.length - 1] ^= 0xff
    locals.push(lh, n, body)
    const ch = Buffer.alloc(46)
    ch.writeUInt32LE(0x02014b50, 0)
    ch.writeUInt32LE(crc, 16)
    ch.writeUInt32LE(data.length, 20)
    ch.writeUInt32LE(data.length, 24)
    ch.writeUInt16LE(n.length, 28)
    ch.writeUInt32LE(off, 42)
    centrals.push(ch, n)
    off += 30 + n.length + data.length
  }
  const cd = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(entries.length, 8)
  end.writeUInt16LE(entries.length, 10)
  end.writeUInt32LE(cd.length, 12)
  end.writeUInt32LE(off, 16)
  return Buffer.concat([...locals, cd, end])
}

function npy(descr: string, shape: number[], data: Buffer): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`
  const pad = 64 - ((10 + header.length + 1) % 64)
  header += ' '.repeat(pad) + '\n'
  const h = Buffer.alloc(10)
  h.writeUInt8(0x93, 0)
  h.write('NUMPY', 1, 'latin1')
  h.writeUInt8(1, 6)
  h.writeUInt16LE(header.length, 8)
  return Buffer.concat([h, Buffer.from(header, 'latin1'), data])
}

describe('npz / CSR', () => {
  it('matches the converted train.tsv for CLLM4Rec Beauty', () => {
    const m = readCsrNpz(fs.readFileSync(`${BEAUTY}/original/train_matrix.npz`), 'train_matrix.npz')
    expect([m.rows, m.cols, m.indices.length]).toEqual([10553, 6086, 70614])
    const tsv = fs.readFileSync(`${BEAUTY}/converted/train.tsv`, 'utf8').trim().split('\n').slice(1)
    const fromCsr: string[] = []
    for (let u = 0; u < m.rows; u++)
      for (let k = m.indptr[u]; k < m.indptr[u + 1]; k++) fromCsr.push(`${u}\t${m.indices[k]}`)
    expect(fromCsr).toEqual(tsv)
  })

  it('reads a stored (uncompressed) zip with int64 indptr and rejects a CRC mismatch', () => {
    const i32 = (a: number[]) => Buffer.from(new Int32Array(a).buffer)
    const entries: [string, Buffer][] = [
      ['indices.npy', npy('<i4', [3], i32([0, 2, 1]))],
      ['indptr.npy', npy('<i8', [3], Buffer.from(new BigInt64Array([0n, 2n, 3n]).buffer))],
      ['data.npy', npy('<f8', [3], Buffer.from(new Float64Array([1, 1, 2]).buffer))],
      ['shape.npy', npy('<i8', [2], Buffer.from(new BigInt64Array([2n, 3n]).buffer))],
      ['format.npy', npy('|S3', [], Buffer.from('csr'))],
    ]
    const m = readCsrNpz(storedZip(entries), 'mini.npz')
    expect([m.rows, m.cols, Array.from(m.indptr), Array.from(m.indices), Array.from(m.data)]).toEqual([
      2,
      3,
      [0, 2, 3],
      [0, 2, 1],
      [1, 1, 2],
    ])
    expect(() => readZip(storedZip(entries, true), 'bad.npz')).toThrow(
      /bad\.npz: zip member indices\.npy: size or CRC mismatch/,
    )
  })

  it('validates CSR invariants and npy headers', () => {
    const i32 = (a: number[]) => Buffer.from(new Int32Array(a).buffer)
    const entries: [string, Buffer][] = [
      ['indices.npy', npy('<i4', [1], i32([7]))],
      ['indptr.npy', npy('<i4', [2], i32([0, 1]))],
      ['data.npy', npy('<f4', [1], Buffer.from(new Float32Array([1]).buffer))],
      ['shape.npy', npy('<i8', [2], Buffer.from(new BigInt64Array([1n, 3n]).buffer))],
      ['format.npy', npy('|S3', [], Buffer.from('csr'))],
    ]
    expect(() => readCsrNpz(storedZip(entries), 'm.npz')).toThrow(
      /m\.npz, field 'indices': column index 7 outside 0\.\.2/,
    )
    expect(() => readNpy(Buffer.from('garbage-not-npy'), 'x.npy')).toThrow(/bad magic/)
    expect(() => readZip(Buffer.from('not a zip at all, definitely not'), 'z.npz')).toThrow(/not a zip/)
  })
})
