// Self-describing training checkpoints (format version, resolved config, seed, data hash, backend, stage,
// step, RNG state, optimizer state, embeddings) and the sink interface the trainer writes through.
// File layout: "CL4RCKPT" magic, uint32 header length, JSON header, then the float32 tensor payload.
// Writes are atomic (tmp + fsync + rename) so a kill mid-write never leaves a half checkpoint.
import fs from 'node:fs'
import path from 'node:path'

export const CHECKPOINT_FORMAT_VERSION = 1

export interface StoredTensor {
  shape: number[]
  data: Float32Array
}

export interface Checkpoint {
  formatVersion: number
  /** Resolved config of the run (frozen object, stored as JSON). */
  config: unknown
  seed: number
  dataHash: string
  backend: string
  /** Stage of the last finished epoch (warmup, pretrain, finetune, done). */
  stage: string
  /** Number of finished epoch tasks: training resumes at this task. */
  step: number
  rngState: number
  /** Trainer bookkeeping (best validation score, history, truncation counts, ...). */
  extra: Record<string, unknown>
  /** Embeddings, optimizer moments, best-model snapshot, by name. */
  tensors: Record<string, StoredTensor>
  savedAt: string
}

export interface CheckpointSink {
  save(ckpt: Checkpoint): Promise<void>
  loadLatest(): Promise<Checkpoint | null>
}

const MAGIC = 'CL4RCKPT'

export function encodeCheckpoint(c: Checkpoint): Buffer {
  const entries: { name: string; shape: number[]; offset: number; length: number }[] = []
  let offset = 0
  for (const [name, t] of Object.entries(c.tensors)) {
    const n = t.shape.reduce((a, b) => a * b, 1)
    if (n !== t.data.length)
      throw new Error(`checkpoint tensor ${name}: shape [${t.shape}] != ${t.data.length} values`)
    entries.push({ name, shape: t.shape, offset, length: n })
    offset += n
  }
  const { tensors: _t, ...rest } = c
  const header = Buffer.from(JSON.stringify({ ...rest, tensors: entries }), 'utf8')
  const out = Buffer.alloc(8 + 4 + header.length + offset * 4)
  out.write(MAGIC, 0, 'latin1')
  out.writeUInt32LE(header.length, 8)
  header.copy(out, 12)
  const base = 12 + header.length
  for (const e of entries) {
    const d = c.tensors[e.name].data
    Buffer.from(d.buffer, d.byteOffset, d.byteLength).copy(out, base + e.offset * 4)
  }
  return out
}

export function decodeCheckpoint(buf: Buffer, source = 'checkpoint'): Checkpoint {
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== MAGIC)
    throw new Error(`${source}: not a CLLM4Rec checkpoint`)
  const hlen = buf.readUInt32LE(8)
  if (12 + hlen > buf.length) throw new Error(`${source}: truncated header`)
  const header = JSON.parse(buf.toString('utf8', 12, 12 + hlen))
  if (header.formatVersion !== CHECKPOINT_FORMAT_VERSION) {
    throw new Error(
      `${source}: field formatVersion ${header.formatVersion} unsupported (expected ${CHECKPOINT_FORMAT_VERSION})`,
    )
  }
  const base = 12 + hlen
  const tensors: Record<string, StoredTensor> = {}
  for (const e of header.tensors as { name: string; shape: number[]; offset: number; length: number }[]) {
    const start = base + e.offset * 4
    if (start + e.length * 4 > buf.length) throw new Error(`${source}: tensor ${e.name} truncated`)
    const data = new Float32Array(e.length)
    Buffer.from(data.buffer).set(buf.subarray(start, start + e.length * 4))
    tensors[e.name] = { shape: e.shape, data }
  }
  return { ...header, tensors }
}

/** Writes a file atomically: tmp in the same folder, fsync, rename, fsync the folder. */
export function writeFileAtomic(file: string, data: Buffer | string): void {
  const tmp = `${file}.tmp-${process.pid}`
  const fd = fs.openSync(tmp, 'w')
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(tmp, file)
  try {
    const dfd = fs.openSync(path.dirname(file), 'r')
    fs.fsyncSync(dfd)
    fs.closeSync(dfd)
  } catch {
    // Directory fsync is not supported everywhere (e.g. Windows); the rename is still atomic.
  }
}

/** Checkpoints as `ckpt-<step>.bin` files in a folder; keeps the newest `keep`. */
export class FsCheckpointSink implements CheckpointSink {
  constructor(
    readonly dir: string,
    readonly keep = 2,
  ) {}

  async save(ckpt: Checkpoint): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true })
    writeFileAtomic(
      path.join(this.dir, `ckpt-${String(ckpt.step).padStart(6, '0')}.bin`),
      encodeCheckpoint(ckpt),
    )
    const files = this.list()
    for (const f of files.slice(0, Math.max(0, files.length - this.keep))) fs.rmSync(path.join(this.dir, f))
  }

  async loadLatest(): Promise<Checkpoint | null> {
    const files = this.list()
    if (files.length === 0) return null
    const file = path.join(this.dir, files[files.length - 1])
    return decodeCheckpoint(fs.readFileSync(file), file)
  }

  private list(): string[] {
    if (!fs.existsSync(this.dir)) return []
    return fs
      .readdirSync(this.dir)
      .filter((f) => /^ckpt-\d+\.bin$/.test(f))
      .sort()
  }
}

/** In-memory sink (tests, and runs that only need resume within one process). */
export class MemoryCheckpointSink implements CheckpointSink {
  latest: Buffer | null = null
  saves = 0

  async save(ckpt: Checkpoint): Promise<void> {
    this.latest = encodeCheckpoint(ckpt)
    this.saves++
  }

  async loadLatest(): Promise<Checkpoint | null> {
    return this.latest ? decodeCheckpoint(this.latest, 'memory') : null
  }
}
