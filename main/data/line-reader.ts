// Streaming line reader shared by every text importer. Memory stays bounded: at most one chunk plus
// one partial line is held, and a line longer than maxLineBytes is rejected as soon as the partial line
// passes the limit (a 50 MB one-line file never gets loaded whole). Handles plain or gzip input, UTF-8
// (strict: invalid bytes are an error naming the line) or latin-1, CRLF, a BOM, NUL-byte detection,
// byte progress, AbortSignal, and a file that vanishes or changes while being read.
import fs from 'node:fs'
import zlib from 'node:zlib'
import { assertAllowed } from './allow-list'
import { DataError, throwIfAborted } from './errors'

/** Lines longer than this are rejected: 16 MiB is far beyond any real review or metadata record. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024

export type TextEncoding = 'utf-8' | 'latin1'

export interface LineReaderOptions {
  encoding?: TextEncoding
  maxLineBytes?: number
  signal?: AbortSignal
  /** Called after every chunk with bytes read from disk (compressed bytes for .gz) and the file size. */
  onBytes?: (bytesRead: number, totalBytes: number) => void
  chunkBytes?: number
  /** Folders the file must resolve into (see allow-list.ts). */
  allowedRoots?: readonly string[]
}

export interface LineBatch {
  /** 1-based number of lines[0]. */
  firstLine: number
  lines: string[]
}

export function isGzipFile(file: string): boolean {
  const fd = openOrThrow(file)
  try {
    const head = Buffer.alloc(2)
    const n = fs.readSync(fd, head, 0, 2, 0)
    return n === 2 && head[0] === 0x1f && head[1] === 0x8b
  } finally {
    fs.closeSync(fd)
  }
}

function openOrThrow(file: string): number {
  try {
    return fs.openSync(file, 'r')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new DataError('file not found', { file })
    if (code === 'EISDIR') throw new DataError('expected a file, got a folder', { file })
    throw new DataError(`cannot open (${code ?? String(err)})`, { file })
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function countNewlines(buf: Buffer, end: number): number {
  let n = 0
  let i = buf.indexOf(10)
  while (i !== -1 && i < end) {
    n++
    i = buf.indexOf(10, i + 1)
  }
  return n
}

/**
 * Reads a text file (optionally gzip, detected by magic bytes) in batches of complete lines.
 * Line numbers are 1-based; a trailing '\r' is removed; the final line needs no newline.
 */
export async function* readLineBatches(
  file: string,
  opts: LineReaderOptions = {},
): AsyncGenerator<LineBatch> {
  const maxLine = opts.maxLineBytes ?? MAX_LINE_BYTES
  const encoding = opts.encoding ?? 'utf-8'
  assertAllowed(file, opts.allowedRoots)
  const gz = isGzipFile(file)
  if (!gz && /\.gz$/i.test(file)) throw new DataError('named .gz but is not gzip data (bad header)', { file })
  const before = fs.statSync(file)
  const total = before.size
  const raw = fs.createReadStream(file, { highWaterMark: opts.chunkBytes ?? 1 << 20 })
  const source: NodeJS.ReadableStream = gz ? raw.pipe(zlib.createGunzip()) : raw
  if (gz) raw.on('error', (e) => (source as zlib.Gunzip).destroy(e))

  let pending: Buffer[] = []
  let pendingLen = 0
  let lineNo = 1 // number of the next line to emit
  let firstChunk = true

  const split = (buf: Buffer): LineBatch => {
    let text = decodeText(buf, encoding, file, lineNo)
    if (lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    const batch = { firstLine: lineNo, lines: splitLines(text, file, lineNo, maxLine) }
    lineNo += batch.lines.length
    return batch
  }

  try {
    for await (const chunkAny of source) {
      throwIfAborted(opts.signal)
      const chunk = chunkAny as Buffer
      if (firstChunk) rejectUtf16(chunk, file)
      firstChunk = false
      const nul = chunk.indexOf(0)
      if (nul !== -1) {
        const line = lineNo + countNewlines(Buffer.concat([...pending, chunk.subarray(0, nul)]), Infinity)
        throw new DataError('binary data (NUL byte): not a text file of this format', { file, line })
      }
      const lastNl = chunk.lastIndexOf(10)
      if (lastNl === -1) {
        pending.push(chunk)
        pendingLen += chunk.length
        if (pendingLen > maxLine) throw lineTooLong(file, lineNo, maxLine)
      } else {
        const head = chunk.subarray(0, lastNl)
        const region = pendingLen ? Buffer.concat([...pending, head]) : head
        pending = lastNl + 1 < chunk.length ? [chunk.subarray(lastNl + 1)] : []
        pendingLen = chunk.length - lastNl - 1
        yield split(region)
      }
      opts.onBytes?.(raw.bytesRead, total)
    }
  } catch (err) {
    throw readError(err, file, gz, lineNo)
  } finally {
    raw.destroy()
  }
  if (pendingLen) yield split(Buffer.concat(pending))
  opts.onBytes?.(raw.bytesRead, total)
  assertUnchanged(file, before)
}

/** A region's lines without their '\r', each checked against the length limit. */
function splitLines(text: string, file: string, firstLine: number, maxLine: number): string[] {
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]
    if (l.length > 0 && l.charCodeAt(l.length - 1) === 13) lines[i] = l.slice(0, -1)
    if (l.length > maxLine) throw lineTooLong(file, firstLine + i, maxLine)
  }
  return lines
}

/** Decodes a region of whole lines; invalid UTF-8 is an error naming the line that holds it. */
function decodeText(buf: Buffer, encoding: TextEncoding, file: string, firstLine: number): string {
  if (encoding === 'latin1') return buf.toString('latin1')
  try {
    return utf8.decode(buf)
  } catch {
    let start = 0
    for (let line = firstLine; ; line++) {
      const nl = buf.indexOf(10, start)
      try {
        utf8.decode(buf.subarray(start, nl === -1 ? buf.length : nl))
      } catch {
        throw new DataError('invalid UTF-8 byte sequence (wrong encoding? u.item-style files are latin-1)', {
          file,
          line,
        })
      }
      if (nl === -1) break
      start = nl + 1
    }
    throw new DataError('invalid UTF-8 byte sequence', { file, line: firstLine })
  }
}

function rejectUtf16(chunk: Buffer, file: string): void {
  const bom16 =
    chunk.length >= 2 &&
    ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff))
  if (bom16)
    throw new DataError('UTF-16 text (byte-order mark): convert the file to UTF-8', { file, line: 1 })
}

/** A stream error as a DataError naming the file and the last complete line; aborts pass through. */
function readError(err: unknown, file: string, gz: boolean, nextLine: number): unknown {
  if (err instanceof DataError || (err as Error).name === 'AbortError') return err
  const e = err as NodeJS.ErrnoException
  if (gz && (e.code?.startsWith('Z_') || /unexpected end|incorrect header|invalid/i.test(e.message)))
    return new DataError(`truncated or corrupt gzip data after line ${nextLine - 1} (${e.message})`, { file })
  if (e.code === 'ENOENT') return new DataError('file vanished during import', { file })
  return new DataError(`read error after line ${nextLine - 1} (${e.message})`, { file })
}

/** A file deleted or rewritten during the import would give a silently inconsistent dataset. */
function assertUnchanged(file: string, before: fs.Stats): void {
  let after: fs.Stats
  try {
    after = fs.statSync(file)
  } catch {
    throw new DataError('file vanished during import', { file })
  }
  if (after.size !== before.size || after.mtimeMs !== before.mtimeMs)
    throw new DataError('file changed during import', { file })
}

function lineTooLong(file: string, line: number, max: number): DataError {
  return new DataError(`line longer than the ${Math.round(max / 1024)} KiB limit (not a line-based file?)`, {
    file,
    line,
  })
}

/** Convenience: the first n non-empty lines (for previews and sniffing). */
export async function headLines(
  file: string,
  n: number,
  encoding: TextEncoding = 'utf-8',
): Promise<string[]> {
  const out: string[] = []
  const ac = new AbortController()
  try {
    for await (const b of readLineBatches(file, { encoding, signal: ac.signal, chunkBytes: 64 * 1024 })) {
      for (const l of b.lines) {
        if (l.trim() !== '') out.push(l)
        if (out.length >= n) return out
      }
    }
  } catch (err) {
    if (out.length >= n) return out
    throw err
  }
  return out
}
