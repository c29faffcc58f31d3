// Small hostile inputs built in the tests themselves (nothing committed): zips whose directories lie,
// deflate bombs, npy arrays with impossible shapes, and pickles that attack the reader's limits.
import zlib from 'node:zlib'

export function npy(descr: string, shape: (number | string)[], body: Buffer): Buffer {
  const s = shape.length === 1 ? `${shape[0]},` : shape.join(', ')
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${s}), }`
  header += ' '.repeat(63 - ((header.length + 10) % 64)) + '\n'
  const h = Buffer.alloc(10)
  h.writeUInt8(0x93, 0)
  h.write('NUMPY', 1, 'latin1')
  h.writeUInt8(1, 6)
  h.writeUInt16LE(header.length, 8)
  return Buffer.concat([h, Buffer.from(header, 'latin1'), body])
}

export const i32 = (a: number[]): Buffer => Buffer.from(new Int32Array(a).buffer)
export const f64 = (a: number[]): Buffer => Buffer.from(new Float64Array(a).buffer)
export const i64 = (a: number[]): Buffer => Buffer.from(new BigInt64Array(a.map(BigInt)).buffer)

export interface ZipMember {
  name: string
  /** Uncompressed bytes (deflated here) ... */
  data?: Buffer
  /** ... or a ready raw-deflate stream with its claimed size. */
  deflated?: Buffer
  /** What the directory claims; defaults to the truth. */
  size?: number
  crc?: number
  /** Overrides the local-header offset written in the central directory. */
  localOffset?: number
}

/** A deflate zip whose central directory says whatever the members claim. */
export function zip(members: ZipMember[]): Buffer {
  const parts: Buffer[] = []
  const central: Buffer[] = []
  let off = 0
  for (const m of members) {
    const name = Buffer.from(m.name)
    const comp = m.deflated ?? zlib.deflateRawSync(m.data ?? Buffer.alloc(0))
    const size = m.size ?? m.data?.length ?? 0
    const crc = m.crc ?? (m.data ? zlib.crc32(m.data) : 0)
    const lh = Buffer.alloc(30)
    lh.writeUInt32LE(0x04034b50, 0)
    lh.writeUInt16LE(8, 8)
    lh.writeUInt32LE(crc, 14)
    lh.writeUInt32LE(comp.length, 18)
    lh.writeUInt32LE(Math.min(size, 0xfffffffe), 22)
    lh.writeUInt16LE(name.length, 26)
    const ch = Buffer.alloc(46)
    ch.writeUInt32LE(0x02014b50, 0)
    ch.writeUInt16LE(8, 10)
    ch.writeUInt32LE(crc, 16)
    ch.writeUInt32LE(comp.length, 20)
    ch.writeUInt32LE(Math.min(size, 0xfffffffe), 24)
    ch.writeUInt16LE(name.length, 28)
    ch.writeUInt32LE(m.localOffset ?? off, 42)
    parts.push(lh, name, comp)
    central.push(ch, name)
    off += 30 + name.length + comp.length
  }
  const cd = Buffer.concat(central)
  const eocd = Buffer.alloc(22)
  eocd.writeUInt32LE(0x06054b50, 0)
  eocd.writeUInt16LE(members.length, 8)
  eocd.writeUInt16LE(members.length, 10)
  eocd.writeUInt32LE(cd.length, 12)
  eocd.writeUInt32LE(off, 16)
  return Buffer.concat([...parts, cd, eocd])
}

/**
 * A raw-deflate stream of `mib` MiB of zeros in about mib KB, built without ever holding the zeros:
 * one fully flushed 1 MiB block (no final bit) repeated, then an empty final block.
 */
export function zeroBomb(mib: number, prefix: Buffer = Buffer.alloc(0)): Buffer {
  const block = zlib.deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: zlib.constants.Z_FULL_FLUSH })
  const head = prefix.length
    ? [zlib.deflateRawSync(prefix, { finishFlush: zlib.constants.Z_FULL_FLUSH })]
    : []
  return Buffer.concat([...head, ...new Array<Buffer>(mib).fill(block), zlib.deflateRawSync(Buffer.alloc(0))])
}

/** An npy header for `shape` float64 followed by nothing: prefix of a bomb member. */
export const npyHeaderOnly = (descr: string, shape: number[]): Buffer => npy(descr, shape, Buffer.alloc(0))

/** The members of a valid scipy CSR npz (2 users x 3 items unless told). */
export function csrMembers(o: { rows?: number; cols?: number } = {}): ZipMember[] {
  const rows = o.rows ?? 2
  const cols = o.cols ?? 3
  const indptr = Array.from({ length: rows + 1 }, (_, r) => Math.min(r, 3))
  const nnz = indptr[rows]
  return [
    { name: 'indices.npy', data: npy('<i4', [nnz], i32(Array.from({ length: nnz }, (_, k) => k % cols))) },
    { name: 'indptr.npy', data: npy('<i4', [rows + 1], i32(indptr)) },
    { name: 'format.npy', data: npy('|S3', [], Buffer.from('csr')) },
    { name: 'shape.npy', data: npy('<i8', [2], i64([rows, cols])) },
    { name: 'data.npy', data: npy('<f8', [nnz], f64(new Array(nnz).fill(1))) },
  ]
}

/** Protocol-2 pickle of {'num_users': u, 'num_items': i}. */
export function metaPickle(users: number, items: number): Buffer {
  const s = (t: string) => Buffer.concat([Buffer.from([0x8c, t.length]), Buffer.from(t)])
  const int = (n: number) => {
    const b = Buffer.alloc(5)
    b[0] = 0x4a
    b.writeInt32LE(n, 1)
    return b
  }
  return Buffer.concat([
    Buffer.from([0x80, 0x02, 0x7d, 0x28]),
    s('num_users'),
    int(users),
    s('num_items'),
    int(items),
    Buffer.from([0x75, 0x2e]),
  ])
}
