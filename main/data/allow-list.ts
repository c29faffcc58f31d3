// Server-side folders the browser may import from (`serve --data DIR`): every file an importer opens,
// siblings included (a meta.pkl's .npz files, u.item, tag JSON), is resolved through symlinks first
// and must lie inside one of them, so a link cannot reach a file outside the allow-list.
import fs from 'node:fs'
import path from 'node:path'
import { DataError } from './errors'

/** Throws unless `file` (after resolving symlinks) is inside a root; no roots means no restriction. */
export function assertAllowed(file: string, roots: readonly string[] | undefined): void {
  if (!roots) return
  let real: string
  try {
    real = fs.realpathSync(file)
  } catch {
    return // missing: the reader reports "file not found" itself
  }
  for (const root of roots) {
    const r = fs.realpathSync(root)
    if (real === r || real.startsWith(r.endsWith(path.sep) ? r : r + path.sep)) return
  }
  throw new DataError('resolves to a file outside the allowed data folders (a symbolic link?)', { file })
}
