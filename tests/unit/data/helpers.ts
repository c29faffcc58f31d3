// Temp-file helpers for data tests (real files on disk, removed after each test file).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import zlib from 'node:zlib'
import { RawData } from '../../../main/data/raw'
import { readSource } from '../../../main/data/import-source'
import type { FormatName, ReadOptions } from '../../../main/data/formats/common'

export function tempDir(prefix = 'cllm4rec-data-'): {
  dir: string
  file: (name: string, content: string | Buffer) => string
  cleanup: () => void
} {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  return {
    dir,
    file: (name, content) => {
      const p = path.join(dir, name)
      fs.mkdirSync(path.dirname(p), { recursive: true })
      fs.writeFileSync(p, content)
      return p
    },
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  }
}

export const gz = (s: string | Buffer): Buffer => zlib.gzipSync(s)

export async function readRaw(p: string, opts: ReadOptions & { format?: FormatName } = {}): Promise<RawData> {
  const raw = new RawData()
  await readSource(p, raw, opts)
  return raw
}

export function rows(raw: RawData) {
  return Array.from({ length: raw.length }, (_, i) => raw.row(i))
}
