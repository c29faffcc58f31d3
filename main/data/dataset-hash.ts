// Content hash of a processed dataset: sha256 over a canonical serialisation of the user ids, item ids
// and the per-user train / val / test lists. Texts and display names are deliberately left out, so
// the same interactions and split imported from different layouts (CLLM4Rec npz vs converted TSV)
// give the same hash, and any change to ids or split changes it.
import { createHash } from 'node:crypto'

export const HASH_VERSION = 'cllm4rec-workbench dataset v1'

export function datasetHash(d: {
  userIds: string[]
  itemIds: string[]
  train: number[][]
  val: number[][]
  test: number[][]
}): string {
  const h = createHash('sha256')
  let buf = ''
  const put = (s: string): void => {
    buf += s
    if (buf.length > 1 << 16) {
      h.update(buf)
      buf = ''
    }
  }
  put(`${HASH_VERSION}\nusers ${d.userIds.length}\n`)
  for (const id of d.userIds) put(JSON.stringify(id) + '\n')
  put(`items ${d.itemIds.length}\n`)
  for (const id of d.itemIds) put(JSON.stringify(id) + '\n')
  for (const [name, lists] of [
    ['train', d.train],
    ['val', d.val],
    ['test', d.test],
  ] as const) {
    put(`${name}\n`)
    for (const l of lists) put(l.join(',') + '\n')
  }
  h.update(buf)
  return h.digest('hex')
}
