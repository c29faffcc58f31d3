// Hostile npz files (built here, never committed): each is refused with a message naming the file,
// quickly and without inflating or allocating what the file merely claims.
import { describe, expect, it } from 'vitest'
import { readCsrNpz, readNpy, readZip } from '../../../main/data/formats/npz'
import { csrMembers, npy, npyHeaderOnly, i32, zeroBomb, zip, type ZipMember } from './hostile-fixtures'

const GIB_F64 = 134217728 // float64 values in 1 GiB

function withMember(name: string, m: Partial<ZipMember>, o: { rows?: number; cols?: number } = {}): Buffer {
  return zip(csrMembers(o).map((x) => (x.name === name ? { ...x, ...m, name } : x)))
}

/** Runs fn and returns its error plus how much memory outside the JS heap grew meanwhile. */
function failure(fn: () => unknown): { message: string; ms: number; grewMb: number } {
  const before = process.memoryUsage().arrayBuffers
  const t0 = performance.now()
  let message = ''
  try {
    fn()
  } catch (err) {
    message = (err as Error).message
  }
  const grewMb = (process.memoryUsage().arrayBuffers - before) / 2 ** 20
  return { message, ms: performance.now() - t0, grewMb }
}

describe('hostile npz', () => {
  const header = npyHeaderOnly('<f8', [GIB_F64])
  const bomb = zeroBomb(1024, header) // 1 GiB of zeros in about 1 MB

  it('a data.npy that truly declares 1 GiB for 3 values is refused before inflating', () => {
    expect(bomb.length).toBeLessThan(2 * 2 ** 20)
    const f = withMember('data.npy', { data: undefined, deflated: bomb, size: header.length + 2 ** 30 })
    const r = failure(() => readCsrNpz(f, 'train_matrix.npz', { rows: 2, cols: 3 }))
    expect(r.message).toMatch(
      /^train_matrix\.npz, field 'data\.npy': zip member data\.npy declares \d+ bytes/,
    )
    expect(r.ms).toBeLessThan(1000)
    expect(r.grewMb).toBeLessThan(64)
  })

  it('a member whose central directory declares 100 bytes is never inflated past 101', () => {
    const f = withMember('data.npy', { data: undefined, deflated: bomb, size: 100 })
    const r = failure(() => readCsrNpz(f, 'train_matrix.npz'))
    expect(r.message).toBe(
      'train_matrix.npz: zip member data.npy inflates to more than the 100 bytes its header declares',
    )
    expect(r.ms).toBeLessThan(1000)
    expect(r.grewMb).toBeLessThan(64)
    // The generic reader has the same cap.
    expect(() => readZip(f, 'x.npz')).toThrow(/x\.npz: zip member data\.npy inflates to more than the 100/)
  })

  it('a shape that disagrees with meta.pkl is refused before the large members are read', () => {
    const f = withMember('data.npy', { data: undefined, deflated: bomb, size: header.length + 2 ** 30 })
    const r = failure(() => readCsrNpz(f, 'val_matrix.npz', { rows: 20, cols: 10 }))
    expect(r.message).toBe("val_matrix.npz, field 'shape': shape 2x3 disagrees with meta.pkl 20x10")
  })

  it('negative, fractional and huge npy shapes get a clear error', () => {
    expect(() => readNpy(npy('<i4', ['-3'], Buffer.alloc(0)), 'f.npz:indices.npy')).toThrow(
      "f.npz:indices.npy, field 'shape': .npy shape has '-3', expected non-negative integers",
    )
    expect(() => readNpy(npy('<i4', ['1.5'], Buffer.alloc(0)), 'a.npy')).toThrow(/shape has '1\.5'/)
    expect(() => readNpy(npy('<i4', [2 ** 30, 2 ** 30], Buffer.alloc(0)), 'b.npy')).toThrow(
      /b\.npy, field 'shape': \.npy shape \(1073741824, 1073741824\) is too large/,
    )
    const f = withMember('indices.npy', { data: npy('<i4', ['-3'], i32([0, 1, 2])) })
    expect(() => readCsrNpz(f, 'm.npz')).toThrow(/m\.npz:indices\.npy, field 'shape': .*'-3'/)
  })

  it('a local-header offset outside the file is a clear error, not a RangeError', () => {
    const f = withMember('indptr.npy', { localOffset: 0x7ffffff0 })
    expect(() => readCsrNpz(f, 'm.npz')).toThrow(
      'm.npz: zip member indptr.npy: local header offset 2147483632 lies outside the file',
    )
  })

  it('a central directory that claims more entries than the file holds', () => {
    const f = zip(csrMembers())
    f.writeUInt16LE(60000, f.length - 22 + 8)
    f.writeUInt16LE(60000, f.length - 22 + 10)
    expect(() => readCsrNpz(f, 'm.npz')).toThrow(/m\.npz: corrupt zip central directory \(entry 5\)/)
  })

  it('an indptr whose length disagrees with the shape', () => {
    const f = withMember('indptr.npy', { data: npy('<i4', [5], i32([0, 1, 2, 3, 3])) })
    expect(() => readCsrNpz(f, 'm.npz')).toThrow("m.npz, field 'indptr': indptr has shape (5), expected (3,)")
  })

  it('still reads the valid fixture', () => {
    const m = readCsrNpz(zip(csrMembers()), 'ok.npz', { rows: 2, cols: 3 })
    expect([m.rows, m.cols, Array.from(m.indices), Array.from(m.data)]).toEqual([2, 3, [0, 1], [1, 1]])
  })
})
