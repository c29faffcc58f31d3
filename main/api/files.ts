// File access by FileRef token only. The renderer never sends a path: it gets opaque tokens for files
// picked in a native dialog, uploaded into a private temp dir, or found in folders allow-listed at
// start (`serve --data DIR --models DIR`). Tokens map to absolute paths held only in main.
import { randomBytes } from 'node:crypto'
import { createWriteStream, mkdtempSync, readdirSync, rmSync, statSync, existsSync } from 'node:fs'
import { rename } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Transform } from 'node:stream'
import type { FileRef } from '../../preload/api'
import { processAlive } from '../store/busy'
import { ApiError } from './validate'

export const DEFAULT_UPLOAD_LIMIT = 2 * 1024 ** 3

export interface FileAccessOptions {
  /** Folders whose files (recursively, 3 levels) the renderer may use as datasets. */
  dataDirs?: string[]
  /** Folders whose sub-folders are offered as HF backbones. */
  modelDirs?: string[]
  /** Upload size cap in bytes. */
  uploadLimit?: number
}

interface Entry {
  path: string
  name: string
  size: number
  /** Folders an import of this file may read from (siblings included); none for dialog picks. */
  roots?: string[]
}

/** Keeps a file name readable but free of separators, dot-dot and control characters. */
export function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? ''
  const cleaned = base
    .replace(/[^\w.\- ]+/g, '_')
    .replace(/^\.+/, '')
    .slice(0, 120)
  return cleaned || 'upload'
}

const UPLOAD_PREFIX = 'cllm4rec-uploads-'

/** Upload folders of this user's earlier processes that are gone (they could not clean up). */
export function removeStaleUploadDirs(tmp = os.tmpdir()): string[] {
  const removed: string[] = []
  const uid = process.getuid?.()
  for (const name of readdirSync(tmp)) {
    const m = new RegExp(`^${UPLOAD_PREFIX}(\\d+)-`).exec(name)
    if (!m || Number(m[1]) === process.pid || processAlive(Number(m[1]))) continue
    const p = path.join(tmp, name)
    try {
      if (uid !== undefined && statSync(p).uid !== uid) continue
      rmSync(p, { recursive: true, force: true })
      removed.push(p)
    } catch {
      // raced with another cleanup, or not ours to remove
    }
  }
  return removed
}

export class FileAccess {
  readonly dataDirs: string[]
  readonly modelDirs: string[]
  readonly uploadLimit: number
  private readonly refs = new Map<string, Entry>()
  /** Same file, same token: listing a folder twice does not grow the table. */
  private readonly byPath = new Map<string, string>()
  private uploadDir: string | undefined

  constructor(options: FileAccessOptions = {}) {
    this.dataDirs = (options.dataDirs ?? []).map((d) => path.resolve(d))
    this.modelDirs = (options.modelDirs ?? []).map((d) => path.resolve(d))
    this.uploadLimit = options.uploadLimit ?? DEFAULT_UPLOAD_LIMIT
    for (const d of [...this.dataDirs, ...this.modelDirs]) {
      if (!existsSync(d) || !statSync(d).isDirectory())
        throw new Error(`allow-listed folder does not exist: ${d}`)
    }
  }

  /** Issues a token for a path main itself chose (dialog result, upload, allow-list scan). */
  register(absPath: string, name = path.basename(absPath), roots?: string[]): FileRef {
    const st = statSync(absPath)
    const known = this.byPath.get(absPath)
    const e = known ? this.refs.get(known) : undefined
    if (known && e) {
      e.size = st.size
      return { fileRef: known, name: e.name, size: st.size }
    }
    const token = 'f_' + randomBytes(16).toString('hex')
    this.refs.set(token, { path: absPath, name, size: st.size, roots })
    this.byPath.set(absPath, token)
    return { fileRef: token, name, size: st.size }
  }

  /** The absolute path behind a token; unknown tokens are a 404, not a path lookup. */
  resolve(fileRef: string): Entry {
    const e = this.refs.get(fileRef)
    if (!e)
      throw new ApiError(`unknown fileRef '${fileRef.slice(0, 40)}' (pick or upload the file first)`, 404)
    return e
  }

  /** Files under the data allow-list (3 levels deep), each with a token. */
  listDataFiles(): FileRef[] {
    const out: FileRef[] = []
    const walk = (dir: string, root: string, depth: number): void => {
      for (const d of readdirSync(dir, { withFileTypes: true })) {
        if (d.name.startsWith('.')) continue
        const p = path.join(dir, d.name)
        if (d.isDirectory() && depth < 3) walk(p, root, depth + 1)
        else if (d.isFile()) out.push(this.register(p, path.relative(root, p), [root]))
      }
    }
    for (const root of this.dataDirs) walk(root, root, 0)
    return out
  }

  /** Sub-folders of the model allow-list that look like HF GPT-2 folders (config.json present). */
  listModelFolders(): string[] {
    const out: string[] = []
    for (const root of this.modelDirs) {
      if (existsSync(path.join(root, 'config.json'))) out.push(root)
      for (const d of readdirSync(root, { withFileTypes: true })) {
        const p = path.join(root, d.name)
        if (d.isDirectory() && existsSync(path.join(p, 'config.json'))) out.push(p)
      }
    }
    return out
  }

  private ensureUploadDir(): string {
    if (this.uploadDir) return this.uploadDir
    removeStaleUploadDirs()
    // mkdtemp gives a fresh 0700 directory: other local users cannot read uploads. The pid in the
    // name lets a later start remove it if this process dies without dispose() (killed, out of memory).
    this.uploadDir = mkdtempSync(path.join(os.tmpdir(), `${UPLOAD_PREFIX}${process.pid}-`))
    return this.uploadDir
  }

  /** Streams an upload to the private temp dir; over the size limit nothing is kept (413). */
  async saveUpload(name: string, source: Readable | Uint8Array): Promise<FileRef> {
    const safe = safeFileName(name)
    const dir = this.ensureUploadDir()
    const final = path.join(dir, `${randomBytes(6).toString('hex')}-${safe}`)
    const tmp = final + '.part'
    const limit = this.uploadLimit
    if (source instanceof Uint8Array) {
      if (source.byteLength > limit)
        throw new ApiError(`upload '${safe}' exceeds the ${limit}-byte limit`, 400)
    }
    let seen = 0
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        seen += chunk.length
        if (seen > limit) cb(new ApiError(`upload '${safe}' exceeds the ${limit}-byte limit`, 400))
        else cb(null, chunk)
      },
    })
    const input: Readable | Iterable<Uint8Array> = source instanceof Uint8Array ? [source] : source
    try {
      await pipeline(input, counter, createWriteStream(tmp, { mode: 0o600, flush: true }))
      await rename(tmp, final)
    } catch (err) {
      rmSync(tmp, { force: true })
      throw err
    }
    return this.register(final, safe, [dir])
  }

  /** Removes the private upload dir (on shutdown). */
  dispose(): void {
    if (this.uploadDir) rmSync(this.uploadDir, { recursive: true, force: true })
    this.uploadDir = undefined
    this.refs.clear()
    this.byPath.clear()
  }
}
