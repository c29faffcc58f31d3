import { afterAll, describe, expect, it } from 'vitest'
import fs from 'node:fs'
import { readLineBatches, headLines } from '../../../main/data/line-reader'
import { DataError } from '../../../main/data/errors'
import { gz, tempDir } from './helpers'

const t = tempDir()
afterAll(t.cleanup)

async function all(file: string, opts = {}): Promise<{ lines: string[]; first: number[] }> {
  const lines: string[] = []
  const first: number[] = []
  for await (const b of readLineBatches(file, opts)) {
    first.push(b.firstLine)
    lines.push(...b.lines)
  }
  return { lines, first }
}

describe('readLineBatches', () => {
  it('handles BOM, CRLF and a missing final newline', async () => {
    const f = t.file('a.txt', '\ufeffa,b\r\nc,d\r\ne')
    expect((await all(f)).lines).toEqual(['a,b', 'c,d', 'e'])
  })

  it('numbers lines across chunk boundaries', async () => {
    const body = Array.from({ length: 5000 }, (_, i) => `line${i + 1}`).join('\n') + '\n'
    const f = t.file('many.txt', body)
    const { lines, first } = await all(f, { chunkBytes: 1000 })
    expect(lines.length).toBe(5000)
    expect(lines[4999]).toBe('line5000')
    expect(first.length).toBeGreaterThan(10)
    // firstLine of every batch equals 1 + lines before it
    let seen = 0
    const batches: number[] = []
    for await (const b of readLineBatches(f, { chunkBytes: 1000 })) {
      batches.push(b.firstLine - 1 - seen)
      seen += b.lines.length
    }
    expect(new Set(batches)).toEqual(new Set([0]))
  })

  it('reads gzip transparently and reports progress on compressed bytes', async () => {
    const f = t.file('x.jsonl.gz', gz('{"a":1}\n{"a":2}\n'))
    const seen: [number, number][] = []
    const { lines } = await all(f, { onBytes: (b: number, tot: number) => seen.push([b, tot]) })
    expect(lines).toEqual(['{"a":1}', '{"a":2}'])
    expect(seen.at(-1)).toEqual([fs.statSync(f).size, fs.statSync(f).size])
  })

  it('names the line with invalid UTF-8, and latin-1 decodes the same bytes', async () => {
    const f = t.file(
      'bad.txt',
      Buffer.concat([Buffer.from('ok\nfine\nMis'), Buffer.from([0xe9]), Buffer.from('rables\n')]),
    )
    await expect(all(f)).rejects.toThrow(/bad\.txt, line 3: invalid UTF-8/)
    expect((await all(f, { encoding: 'latin1' })).lines[2]).toBe('Misérables')
  })

  it('names UTF-16 input instead of calling it binary', async () => {
    const f = t.file(
      'utf16.csv',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('user,item\n', 'utf16le')]),
    )
    await expect(all(f)).rejects.toThrow(/utf16\.csv, line 1: UTF-16 text/)
  })

  it('rejects binary data (NUL bytes) naming the line', async () => {
    const f = t.file('bin.dat', Buffer.concat([Buffer.from('a\nb\n'), Buffer.from([0, 1, 2, 255])]))
    await expect(all(f)).rejects.toThrow(/line 3: binary data/)
  })

  it('rejects an over-long line without reading the rest of the file', async () => {
    const f = t.file('long.txt', 'short\n' + 'x'.repeat(300_000) + '\nafter\n')
    const err = await all(f, { maxLineBytes: 100_000, chunkBytes: 16_384 }).catch((e) => e)
    expect(err).toBeInstanceOf(DataError)
    expect(err.message).toMatch(/long\.txt, line 2: line longer than/)
  })

  it('reports a truncated gzip file', async () => {
    const full = gz('x\n'.repeat(100_000) + 'end\n')
    const f = t.file('trunc.gz', full.subarray(0, full.length - 40))
    await expect(all(f)).rejects.toThrow(/trunc\.gz: truncated or corrupt gzip/)
  })

  it('refuses a .gz name with non-gzip content', async () => {
    const f = t.file('fake.json.gz', '{"a":1}\n')
    await expect(all(f)).rejects.toThrow(/not gzip data/)
  })

  it('detects a file that vanishes while it is read', async () => {
    const f = t.file('vanish.txt', 'a\n'.repeat(200_000))
    const run = async () => {
      let first = true
      for await (const _ of readLineBatches(f, { chunkBytes: 4096 })) {
        if (first) fs.unlinkSync(f)
        first = false
      }
    }
    await expect(run()).rejects.toThrow(/vanish\.txt: file vanished during import/)
  })

  it('a missing file is a clear error; headLines stops early', async () => {
    await expect(all(t.dir + '/nope.txt')).rejects.toThrow(/nope\.txt: file not found/)
    const f = t.file('h.txt', 'a\n\nb\nc\n')
    expect(await headLines(f, 2)).toEqual(['a', 'b'])
  })

  it('honours an AbortSignal', async () => {
    const f = t.file('abort.txt', 'a\n'.repeat(100_000))
    const ac = new AbortController()
    ac.abort()
    await expect(all(f, { signal: ac.signal, chunkBytes: 1024 })).rejects.toThrow(/cancelled/)
  })
})
