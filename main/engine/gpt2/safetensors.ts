// Reader and writer for the safetensors format (8-byte little-endian header length, JSON header
// {name: {dtype, shape, data_offsets}}, raw little-endian data). Written here rather than imported so
// every malformed file gets an error that names the file and the tensor (CLLM4REC.md §9: no silent loads).
import fs from 'node:fs'
import path from 'node:path'

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16'
export interface RawTensor {
  shape: number[]
  data: Float32Array
}
export interface SafetensorsFile {
  tensors: Map<string, RawTensor>
  metadata: Record<string, string>
}

const BYTES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
}
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
// Header larger than this is certainly not a safetensors file (the reference implementation caps at 100 MB).
const MAX_HEADER = 100 * 1024 * 1024

export function readSafetensors(file: string): SafetensorsFile {
  let buf: Buffer
  try {
    buf = fs.readFileSync(file)
  } catch (e) {
    throw new Error(`${file}: cannot read safetensors file (${(e as Error).message})`)
  }
  return parseSafetensors(buf, file)
}

/** Parse a whole safetensors buffer; every tensor is converted to float32. */
export function parseSafetensors(buf: Uint8Array, file = '<buffer>'): SafetensorsFile {
  if (buf.byteLength < 8)
    throw new Error(`${file}: truncated safetensors file (${buf.byteLength} bytes, no header length)`)
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const headerLen = Number(view.getBigUint64(0, true))
  if (headerLen > MAX_HEADER)
    throw new Error(`${file}: header length ${headerLen} is implausible (not a safetensors file?)`)
  if (8 + headerLen > buf.byteLength) {
    throw new Error(
      `${file}: truncated safetensors file (header says ${headerLen} bytes, file has ${buf.byteLength - 8})`,
    )
  }
  let header: unknown
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + headerLen)))
  } catch (e) {
    throw new Error(`${file}: bad safetensors header JSON (${(e as Error).message})`)
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new Error(`${file}: safetensors header is not a JSON object`)
  }
  const dataStart = 8 + headerLen
  const dataLen = buf.byteLength - dataStart
  const metadata: Record<string, string> = {}
  const entries: { name: string; dtype: string; shape: number[]; begin: number; end: number }[] = []
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw && typeof raw === 'object') Object.assign(metadata, raw)
      continue
    }
    const where = `${file}: tensor "${name}"`
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown }
    if (!info || typeof info !== 'object') throw new Error(`${where}: header entry is not an object`)
    const dtype = info.dtype
    if (typeof dtype !== 'string' || !(dtype in BYTES))
      throw new Error(`${where}: unknown dtype ${JSON.stringify(dtype)}`)
    if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16') {
      throw new Error(`${where}: dtype ${dtype} is not supported (F32, F16, BF16)`)
    }
    const shape = info.shape
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new Error(`${where}: bad shape ${JSON.stringify(shape)}`)
    }
    const off = info.data_offsets
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isInteger(o) && o >= 0)) {
      throw new Error(`${where}: bad data_offsets ${JSON.stringify(off)}`)
    }
    const [begin, end] = off as [number, number]
    if (end < begin || end > dataLen) {
      throw new Error(
        `${where}: data_offsets [${begin}, ${end}] out of range (data section is ${dataLen} bytes; truncated file?)`,
      )
    }
    const expected = (shape as number[]).reduce((p, d) => p * d, 1) * BYTES[dtype]
    if (end - begin !== expected) {
      throw new Error(`${where}: ${end - begin} bytes for shape [${shape}] ${dtype}, expected ${expected}`)
    }
    entries.push({ name, dtype, shape: shape as number[], begin, end })
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin)
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].begin < sorted[i - 1].end) {
      throw new Error(
        `${file}: tensors "${sorted[i - 1].name}" and "${sorted[i].name}" overlap in the data section`,
      )
    }
  }
  const tensors = new Map<string, RawTensor>()
  for (const e of entries) {
    tensors.set(e.name, {
      shape: e.shape,
      data: decode(buf, dataStart + e.begin, dataStart + e.end, e.dtype),
    })
  }
  return { tensors, metadata }
}

function decode(buf: Uint8Array, begin: number, end: number, dtype: string): Float32Array {
  const n = (end - begin) / BYTES[dtype]
  const view = new DataView(buf.buffer, buf.byteOffset + begin, end - begin)
  const out = new Float32Array(n)
  if (dtype === 'F32' && LITTLE_ENDIAN) {
    // Copy, not a view: the source may be unaligned and the caller owns the file buffer.
    new Uint8Array(out.buffer).set(buf.subarray(begin, end))
  } else if (dtype === 'F32') {
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true)
  } else if (dtype === 'BF16') {
    const u = new Uint32Array(1)
    const f = new Float32Array(u.buffer)
    for (let i = 0; i < n; i++) {
      u[0] = view.getUint16(i * 2, true) << 16
      out[i] = f[0]
    }
  } else {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(i * 2, true))
  }
  return out
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1
  const exp = (h >> 10) & 0x1f
  const frac = h & 0x3ff
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024)
  if (exp === 31) return frac ? NaN : sign * Infinity
  return sign * 2 ** (exp - 15) * (1 + frac / 1024)
}

/** Serialise float32 tensors (in the given order) to safetensors bytes. */
export function encodeSafetensors(
  tensors: Map<string, RawTensor>,
  metadata: Record<string, string> = {},
): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata }
  let offset = 0
  for (const [name, t] of tensors) {
    const n = t.shape.reduce((p, d) => p * d, 1)
    if (n !== t.data.length)
      throw new Error(`tensor "${name}": shape [${t.shape}] needs ${n} values, has ${t.data.length}`)
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + n * 4] }
    offset += n * 4
  }
  let json = JSON.stringify(header)
  // Pad with spaces so the data section starts 8-byte aligned (what the reference writer does).
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8)
  const head = Buffer.from(json, 'utf8')
  const out = Buffer.alloc(8 + head.length + offset)
  out.writeBigUInt64LE(BigInt(head.length), 0)
  head.copy(out, 8)
  let pos = 8 + head.length
  for (const t of tensors.values()) {
    const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)
    if (!LITTLE_ENDIAN) throw new Error('writing safetensors on a big-endian host is not supported')
    bytes.copy(out, pos)
    pos += bytes.length
  }
  return out
}

/** Write a file atomically: temp file in the same folder, fsync, rename. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`)
  const fd = fs.openSync(tmp, 'w')
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(tmp, file)
}

export function writeSafetensors(
  file: string,
  tensors: Map<string, RawTensor>,
  metadata: Record<string, string> = {},
): void {
  writeFileAtomic(file, encodeSafetensors(tensors, metadata))
}
