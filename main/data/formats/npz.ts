// numpy .npz reading without numpy: a small zip reader (stored / deflate, zip64 sizes as written by
// numpy's force_zip64) + the .npy header parser, and scipy.sparse CSR reconstruction
// (members data, indices, indptr, shape, format) as written by scipy.sparse.save_npz.
// Hostile files are expected: every offset is bounds-checked, a member is inflated to at most the size
// its central directory declares, and the CSR reader checks declared sizes against the shape (and
// meta.pkl's counts) before it inflates or allocates anything large.
import zlib from 'node:zlib'
import { DataError } from '../errors'

export interface ZipEntry {
  name: string
  method: number
  crc: number
  /** Compressed and declared uncompressed sizes. */
  comp: number
  size: number
  local: number
}

function findEocd(buf: Buffer): number {
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--)
    if (buf.readUInt32LE(i) === 0x06054b50) return i
  return -1
}

/** Reads a u64 that must be a byte offset or size inside a file of `limit` bytes. */
function offset64(buf: Buffer, at: number, limit: number, what: string, file: string): number {
  if (at + 8 > buf.length) throw new DataError(`zip ${what} lies outside the file`, { file })
  const v = buf.readBigUInt64LE(at)
  if (v > BigInt(limit)) throw new DataError(`zip ${what} ${v} lies outside the file`, { file })
  return Number(v)
}

/** The central directory: names, methods, sizes and local-header offsets, all checked against the file. */
export function readZipDirectory(buf: Buffer, file: string): Map<string, ZipEntry> {
  const eocd = findEocd(buf)
  if (eocd < 0) throw new DataError('not a zip/npz file (no end-of-central-directory record)', { file })
  let count = buf.readUInt16LE(eocd + 10)
  let cd = buf.readUInt32LE(eocd + 16)
  if (cd === 0xffffffff || count === 0xffff) {
    const loc = eocd - 20
    if (loc < 0 || buf.readUInt32LE(loc) !== 0x07064b50) throw new DataError('bad zip64 locator', { file })
    const z = offset64(buf, loc + 8, buf.length - 56, 'zip64 end record offset', file)
    if (buf.readUInt32LE(z) !== 0x06064b50) throw new DataError('bad zip64 end record', { file })
    count = offset64(buf, z + 32, buf.length, 'entry count', file)
    cd = offset64(buf, z + 48, buf.length, 'central directory offset', file)
  }
  const out = new Map<string, ZipEntry>()
  let p = cd
  for (let n = 0; n < count; n++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50)
      throw new DataError(`corrupt zip central directory (entry ${n})`, { file })
    const nameLen = buf.readUInt16LE(p + 28)
    const extraLen = buf.readUInt16LE(p + 30)
    const commentLen = buf.readUInt16LE(p + 32)
    if (p + 46 + nameLen + extraLen + commentLen > buf.length)
      throw new DataError(`corrupt zip central directory (entry ${n} runs past the end)`, { file })
    const e: ZipEntry = {
      name: buf.toString('utf8', p + 46, p + 46 + nameLen),
      method: buf.readUInt16LE(p + 10),
      crc: buf.readUInt32LE(p + 16),
      comp: buf.readUInt32LE(p + 20),
      size: buf.readUInt32LE(p + 24),
      local: buf.readUInt32LE(p + 42),
    }
    readZip64Extra(buf, p + 46 + nameLen, extraLen, e, file)
    if (e.local + 30 > buf.length)
      throw new DataError(`zip member ${e.name}: local header offset ${e.local} lies outside the file`, {
        file,
      })
    out.set(e.name, e)
    p += 46 + nameLen + extraLen + commentLen
  }
  return out
}

// zip64 extra field: only the values that overflowed are present, in this order.
function readZip64Extra(buf: Buffer, at: number, len: number, e: ZipEntry, file: string): void {
  const end = at + len
  while (at + 4 <= end) {
    const id = buf.readUInt16LE(at)
    const n = buf.readUInt16LE(at + 2)
    if (id === 0x0001) {
      let q = at + 4
      const next = (what: string, limit: number) => {
        if (q + 8 > at + 4 + n) throw new DataError(`zip member ${e.name}: short zip64 field`, { file })
        const v = offset64(buf, q, limit, `member ${e.name} ${what}`, file)
        q += 8
        return v
      }
      // An uncompressed size may exceed the file (that is what compression does); it is bounded later.
      if (e.size === 0xffffffff) e.size = next('size', Number.MAX_SAFE_INTEGER)
      if (e.comp === 0xffffffff) e.comp = next('compressed size', buf.length)
      if (e.local === 0xffffffff) e.local = next('local header offset', buf.length)
    }
    at += 4 + n
  }
}

/**
 * One member's bytes. Deflate output is capped at the declared size (a member that inflates to more
 * is refused, never inflated in full), and the declared size must not exceed `maxBytes`.
 */
export function extractZipEntry(buf: Buffer, e: ZipEntry, file: string, maxBytes: number): Buffer {
  if (e.size > maxBytes)
    throw new DataError(
      `zip member ${e.name} declares ${e.size} bytes, more than the ${maxBytes} its contents can need`,
      { file, field: e.name },
    )
  if (buf.readUInt32LE(e.local) !== 0x04034b50)
    throw new DataError(`corrupt zip local header for ${e.name}`, { file })
  const start = e.local + 30 + buf.readUInt16LE(e.local + 26) + buf.readUInt16LE(e.local + 28)
  if (start + e.comp > buf.length) throw new DataError(`zip member ${e.name} is truncated`, { file })
  const raw = buf.subarray(start, start + e.comp)
  let data: Buffer
  if (e.method === 0) data = raw
  else if (e.method === 8) {
    try {
      // One byte over the declared size tells "inflates to more than declared" apart from "exact".
      data = zlib.inflateRawSync(raw, { maxOutputLength: e.size + 1 })
    } catch (err) {
      const tooBig = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
      throw new DataError(
        tooBig
          ? `zip member ${e.name} inflates to more than the ${e.size} bytes its header declares`
          : `zip member ${e.name}: corrupt deflate data (${(err as Error).message})`,
        { file },
      )
    }
  } else throw new DataError(`zip member ${e.name}: unsupported compression method ${e.method}`, { file })
  if (data.length !== e.size || zlib.crc32(data) !== e.crc)
    throw new DataError(`zip member ${e.name}: size or CRC mismatch (corrupt file)`, { file })
  return data
}

/** Every member, each capped at `maxMemberBytes` (default: 64 times the archive, at most 2 GiB). */
export function readZip(buf: Buffer, file: string, maxMemberBytes?: number): Map<string, Buffer> {
  const cap = maxMemberBytes ?? Math.min(2 ** 31, buf.length * 64)
  const out = new Map<string, Buffer>()
  for (const e of readZipDirectory(buf, file).values()) out.set(e.name, extractZipEntry(buf, e, file, cap))
  return out
}

export type NpyArray =
  | {
      dtype: string
      shape: number[]
      data: Int32Array | Float32Array | Float64Array | BigInt64Array | Uint8Array
    }
  | { dtype: string; shape: number[]; data: string[] }

/** .npy headers are at most a few hundred bytes; numpy pads them to 64-byte multiples. */
export const NPY_HEADER_MAX = 4096

function npyShape(header: string, where: string): number[] {
  const shapeS = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1]
  if (shapeS === undefined) throw new DataError(`bad .npy header: ${header.slice(0, 200)}`, { file: where })
  const parts = shapeS
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const shape = parts.map((s) => (/^\d{1,15}$/.test(s) ? Number(s) : NaN))
  const bad = parts.findIndex((_, i) => !Number.isSafeInteger(shape[i]))
  if (bad >= 0)
    throw new DataError(`.npy shape has '${parts[bad]}', expected non-negative integers`, {
      file: where,
      field: 'shape',
    })
  if (!Number.isSafeInteger(shape.reduce((a, b) => a * b, 1)))
    throw new DataError(`.npy shape (${shapeS}) is too large`, { file: where, field: 'shape' })
  return shape
}

/** Parses one .npy buffer (format versions 1-3, little-endian numeric dtypes and fixed-size bytes). */
export function readNpy(buf: Buffer, where: string): NpyArray {
  if (buf.length < 12 || buf.readUInt8(0) !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY')
    throw new DataError('not a .npy array (bad magic)', { file: where })
  const major = buf[6]
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8)
  const hstart = major === 1 ? 10 : 12
  if (hlen > NPY_HEADER_MAX || hstart + hlen > buf.length)
    throw new DataError(`.npy header length ${hlen} is impossible`, { file: where })
  const header = buf.toString('latin1', hstart, hstart + hlen)
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1]
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1]
  if (!descr || !fortran) throw new DataError(`bad .npy header: ${header.slice(0, 200)}`, { file: where })
  const shape = npyShape(header, where)
  const n = shape.reduce((a, b) => a * b, 1)
  const body = buf.subarray(hstart + hlen)
  // Copy into a fresh ArrayBuffer: typed-array views need aligned offsets.
  const copy = (bytes: number) => {
    if (body.length < n * bytes)
      throw new DataError(`.npy data truncated (${descr}, shape (${shape.join(', ')}))`, { file: where })
    return new Uint8Array(body.subarray(0, n * bytes)).buffer
  }
  switch (descr) {
    case '<i4':
      return { dtype: descr, shape, data: new Int32Array(copy(4)) }
    case '<i8':
      return { dtype: descr, shape, data: new BigInt64Array(copy(8)) }
    case '<f4':
      return { dtype: descr, shape, data: new Float32Array(copy(4)) }
    case '<f8':
      return { dtype: descr, shape, data: new Float64Array(copy(8)) }
    case '|u1':
    case '|b1':
      return { dtype: descr, shape, data: new Uint8Array(copy(1)) }
  }
  const s = /^\|S(\d{1,6})$/.exec(descr)
  if (s) {
    const w = Number(s[1])
    const b = Buffer.from(copy(w))
    const data: string[] = []
    for (let i = 0; i < n; i++) data.push(b.toString('latin1', i * w, (i + 1) * w).replace(/\0+$/, ''))
    return { dtype: descr, shape, data }
  }
  throw new DataError(`unsupported .npy dtype ${descr}`, { file: where })
}

export interface Csr {
  rows: number
  cols: number
  indptr: Int32Array
  indices: Int32Array
  data: Float64Array
}

function toInt32(a: NpyArray, what: string, file: string): Int32Array {
  if (a.data instanceof Int32Array) return a.data
  if (a.data instanceof BigInt64Array) {
    const out = new Int32Array(a.data.length)
    for (let i = 0; i < out.length; i++) {
      const v = a.data[i]
      if (v > 0x7fffffffn || v < 0n) throw new DataError(`${what} value ${v} out of range`, { file })
      out[i] = Number(v)
    }
    return out
  }
  throw new DataError(`${what} has dtype ${a.dtype}, expected an integer type`, { file })
}

function toFloat64(a: NpyArray, file: string): Float64Array {
  const d = a.data
  if (Array.isArray(d)) throw new DataError('data is not numeric', { file, field: 'data' })
  if (d instanceof Float64Array) return d
  const out = new Float64Array(d.length)
  for (let i = 0; i < d.length; i++) out[i] = Number(d[i])
  return out
}

/** A 1-D member of exactly `len` elements of at most 8 bytes each: declared size checked before inflating. */
function vectorMember(
  buf: Buffer,
  dir: Map<string, ZipEntry>,
  name: string,
  len: number,
  file: string,
): NpyArray {
  const a = npyMember(buf, dir, name, NPY_HEADER_MAX + len * 8, file)
  if (a.shape.length !== 1 || a.shape[0] !== len)
    throw new DataError(`${name} has shape (${a.shape.join(', ')}), expected (${len},)`, {
      file,
      field: name,
    })
  return a
}

function npyMember(
  buf: Buffer,
  dir: Map<string, ZipEntry>,
  name: string,
  maxBytes: number,
  file: string,
): NpyArray {
  const e = dir.get(`${name}.npy`)
  if (!e) throw new DataError(`missing member ${name}.npy (not a scipy sparse npz?)`, { file, field: name })
  return readNpy(extractZipEntry(buf, e, file, maxBytes), `${file}:${name}.npy`)
}

export interface CsrExpect {
  rows: number
  cols: number
}

/**
 * Reads a scipy.sparse.save_npz CSR matrix and checks its invariants. With `expect` (meta.pkl's
 * counts) a different shape is refused before the large members are read.
 */
export function readCsrNpz(buf: Buffer, file: string, expect?: CsrExpect): Csr {
  const dir = readZipDirectory(buf, file)
  const fmt = npyMember(buf, dir, 'format', NPY_HEADER_MAX + 64, file).data
  if (!Array.isArray(fmt) || fmt[0] !== 'csr')
    throw new DataError(`sparse format ${String(Array.isArray(fmt) ? fmt[0] : '?')} is not csr`, {
      file,
      field: 'format',
    })
  const shapeArr = npyMember(buf, dir, 'shape', NPY_HEADER_MAX + 64, file).data
  const shape = Array.from(shapeArr as ArrayLike<number | bigint>, Number)
  if (shape.length !== 2 || !shape.every((x) => Number.isSafeInteger(x) && x >= 0 && x <= 0x7fffffff))
    throw new DataError(`shape (${shape.join(', ')}) is not two non-negative 32-bit sizes`, {
      file,
      field: 'shape',
    })
  const [rows, cols] = shape
  if (expect && (rows !== expect.rows || cols !== expect.cols))
    throw new DataError(`shape ${rows}x${cols} disagrees with meta.pkl ${expect.rows}x${expect.cols}`, {
      file,
      field: 'shape',
    })
  const indptr = toInt32(vectorMember(buf, dir, 'indptr', rows + 1, file), 'indptr', file)
  for (let r = 0; r < rows; r++)
    if (indptr[r + 1] < indptr[r])
      throw new DataError(`indptr decreases at row ${r}`, { file, field: 'indptr' })
  const nnz = indptr[rows]
  if (indptr[0] !== 0 || nnz > rows * cols)
    throw new DataError(`indptr runs from ${indptr[0]} to ${nnz}, expected 0..${rows * cols} at most`, {
      file,
      field: 'indptr',
    })
  const indices = toInt32(vectorMember(buf, dir, 'indices', nnz, file), 'indices', file)
  const data = toFloat64(vectorMember(buf, dir, 'data', nnz, file), file)
  for (let i = 0; i < indices.length; i++)
    if (indices[i] < 0 || indices[i] >= cols)
      throw new DataError(`column index ${indices[i]} outside 0..${cols - 1}`, { file, field: 'indices' })
  return { rows, cols, indptr, indices, data }
}
