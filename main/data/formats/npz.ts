// numpy .npz reading without numpy: a small zip reader (stored / deflate, zip64 sizes as written by
// numpy's force_zip64) + the .npy header parser, and scipy.sparse CSR reconstruction
// (members data, indices, indptr, shape, format) as written by scipy.sparse.save_npz.
import zlib from 'node:zlib'
import { DataError } from '../errors'

export function readZip(buf: Buffer, file: string): Map<string, Buffer> {
  let eocd = -1
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--)
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i
      break
    }
  if (eocd < 0) throw new DataError('not a zip/npz file (no end-of-central-directory record)', { file })
  let count = buf.readUInt16LE(eocd + 10)
  let cd = buf.readUInt32LE(eocd + 16)
  if (cd === 0xffffffff || count === 0xffff) {
    const loc = eocd - 20
    if (loc < 0 || buf.readUInt32LE(loc) !== 0x07064b50) throw new DataError('bad zip64 locator', { file })
    const z = Number(buf.readBigUInt64LE(loc + 8))
    if (buf.readUInt32LE(z) !== 0x06064b50) throw new DataError('bad zip64 end record', { file })
    count = Number(buf.readBigUInt64LE(z + 32))
    cd = Number(buf.readBigUInt64LE(z + 48))
  }
  const out = new Map<string, Buffer>()
  let p = cd
  for (let n = 0; n < count; n++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50)
      throw new DataError(`corrupt zip central directory (entry ${n})`, { file })
    const method = buf.readUInt16LE(p + 10)
    const crc = buf.readUInt32LE(p + 16)
    let comp = buf.readUInt32LE(p + 20)
    let size = buf.readUInt32LE(p + 24)
    const nameLen = buf.readUInt16LE(p + 28)
    const extraLen = buf.readUInt16LE(p + 30)
    const commentLen = buf.readUInt16LE(p + 32)
    let local = buf.readUInt32LE(p + 42)
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen)
    // zip64 extra field: only the values that overflowed are present, in this order.
    let e = p + 46 + nameLen
    const eEnd = e + extraLen
    while (e + 4 <= eEnd) {
      const id = buf.readUInt16LE(e)
      const len = buf.readUInt16LE(e + 2)
      if (id === 0x0001) {
        let q = e + 4
        if (size === 0xffffffff) {
          size = Number(buf.readBigUInt64LE(q))
          q += 8
        }
        if (comp === 0xffffffff) {
          comp = Number(buf.readBigUInt64LE(q))
          q += 8
        }
        if (local === 0xffffffff) local = Number(buf.readBigUInt64LE(q))
      }
      e += 4 + len
    }
    p = eEnd + commentLen
    if (buf.readUInt32LE(local) !== 0x04034b50)
      throw new DataError(`corrupt zip local header for ${name}`, { file })
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28)
    if (start + comp > buf.length) throw new DataError(`zip member ${name} is truncated`, { file })
    const raw = buf.subarray(start, start + comp)
    let data: Buffer
    if (method === 0) data = raw
    else if (method === 8) {
      try {
        data = zlib.inflateRawSync(raw)
      } catch (err) {
        throw new DataError(`zip member ${name}: corrupt deflate data (${(err as Error).message})`, { file })
      }
    } else throw new DataError(`zip member ${name}: unsupported compression method ${method}`, { file })
    if (data.length !== size || zlib.crc32(data) !== crc)
      throw new DataError(`zip member ${name}: size or CRC mismatch (corrupt file)`, { file })
    out.set(name, data)
  }
  return out
}

export type NpyArray =
  | {
      dtype: string
      shape: number[]
      data: Int32Array | Float32Array | Float64Array | BigInt64Array | Uint8Array
    }
  | { dtype: string; shape: number[]; data: string[] }

/** Parses one .npy buffer (format versions 1-3, little-endian numeric dtypes and fixed-size bytes). */
export function readNpy(buf: Buffer, where: string): NpyArray {
  if (buf.length < 10 || buf.readUInt8(0) !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY')
    throw new DataError('not a .npy array (bad magic)', { file: where })
  const major = buf[6]
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8)
  const hstart = major === 1 ? 10 : 12
  const header = buf.toString('latin1', hstart, hstart + hlen)
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1]
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1]
  const shapeS = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1]
  if (!descr || !fortran || shapeS === undefined)
    throw new DataError(`bad .npy header: ${header}`, { file: where })
  const shape = shapeS
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number)
  const n = shape.reduce((a, b) => a * b, 1)
  const body = buf.subarray(hstart + hlen)
  // Copy into a fresh ArrayBuffer: typed-array views need aligned offsets.
  const copy = (bytes: number) => {
    if (body.length < n * bytes)
      throw new DataError(`.npy data truncated (${descr}, shape ${shapeS})`, { file: where })
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
  const s = /^\|S(\d+)$/.exec(descr)
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

/** Reads a scipy.sparse.save_npz CSR matrix and checks its invariants. */
export function readCsrNpz(buf: Buffer, file: string): Csr {
  const z = readZip(buf, file)
  const get = (name: string) => {
    const b = z.get(`${name}.npy`)
    if (!b) throw new DataError(`missing member ${name}.npy (not a scipy sparse npz?)`, { file, field: name })
    return readNpy(b, `${file}:${name}.npy`)
  }
  const fmt = get('format').data
  if (!Array.isArray(fmt) || fmt[0] !== 'csr')
    throw new DataError(`sparse format ${String(Array.isArray(fmt) ? fmt[0] : '?')} is not csr`, {
      file,
      field: 'format',
    })
  const shapeArr = get('shape').data
  const shape = Array.from(shapeArr as ArrayLike<number | bigint>, Number)
  const indptr = toInt32(get('indptr'), 'indptr', file)
  const indices = toInt32(get('indices'), 'indices', file)
  const d = get('data').data
  if (Array.isArray(d)) throw new DataError('data is not numeric', { file, field: 'data' })
  const data = Float64Array.from(d as ArrayLike<number>, Number)
  const [rows, cols] = shape
  if (indptr.length !== rows + 1)
    throw new DataError(`indptr length ${indptr.length} != rows + 1`, { file, field: 'indptr' })
  if (indptr[rows] !== indices.length || data.length !== indices.length)
    throw new DataError('indptr / indices / data lengths disagree', { file, field: 'indices' })
  for (let i = 0; i < indices.length; i++)
    if (indices[i] < 0 || indices[i] >= cols)
      throw new DataError(`column index ${indices[i]} outside 0..${cols - 1}`, { file, field: 'indices' })
  for (let r = 0; r < rows; r++)
    if (indptr[r + 1] < indptr[r])
      throw new DataError(`indptr decreases at row ${r}`, { file, field: 'indptr' })
  return { rows, cols, indptr, indices, data }
}
