import { afterAll, describe, expect, it } from 'vitest'
import {
  parseColumnMap,
  resolveColumns,
  sniffDelimited,
  splitRecord,
} from '../../../main/data/formats/delimited'
import { previewFile } from '../../../main/data/import-source'
import { readRaw, rows, tempDir } from './helpers'

const t = tempDir()
afterAll(t.cleanup)
const at = { file: 'f', line: 1 }

describe('splitRecord (RFC 4180)', () => {
  it('splits plain and quoted fields, with doubled quotes and embedded separators', () => {
    expect(splitRecord('a,b,c', ',', at)).toEqual(['a', 'b', 'c'])
    expect(splitRecord('"a,1","say ""hi""",', ',', at)).toEqual(['a,1', 'say "hi"', ''])
    expect(splitRecord('x::y', '::', at)).toEqual(['x', 'y'])
  })
  it('returns null while a quoted field is open (record continues on the next line)', () => {
    expect(splitRecord('u1,i1,"first line', ',', at)).toBeNull()
    expect(splitRecord('u1,i1,"first line\nsecond"', ',', at)).toEqual(['u1', 'i1', 'first line\nsecond'])
  })
  it('rejects text after a closing quote, naming the column', () => {
    expect(() => splitRecord('"a"b,c', ',', { file: 'x.csv', line: 7 })).toThrow(
      /x\.csv, line 7: unexpected text after a closing quote in column 1/,
    )
  })
})

describe('sniffing and column mapping', () => {
  it('detects separator and header', () => {
    expect(sniffDelimited(['user_id\titem_id\trating', '1\t2\t5', '1\t3\t4'])).toMatchObject({
      sep: '\t',
      header: true,
      columns: ['user_id', 'item_id', 'rating'],
    })
    expect(sniffDelimited(['1;2;5', '1;3;4'])).toMatchObject({ sep: ';', header: false })
    expect(sniffDelimited(['who,what,stars', 'a,b,5'])).toMatchObject({ sep: ',', header: true })
  })
  it('parses --map and resolves by name or index', () => {
    expect(parseColumnMap('user=who,item=2,rating=stars')).toEqual({ user: 'who', item: 2, rating: 'stars' })
    expect(() => parseColumnMap('usr=who')).toThrow(/bad --map entry 'usr=who'/)
    const s = sniffDelimited(['who,what,stars', 'a,b,5'])
    expect(resolveColumns(s, { user: 'who', item: 1, rating: 'stars' }, 'f.csv')).toEqual({
      user: 0,
      item: 1,
      rating: 2,
    })
    expect(() => resolveColumns(s, { user: 'nobody', item: 1 }, 'f.csv')).toThrow(
      /f\.csv, line 1, field 'user': no column named 'nobody'/,
    )
    expect(() => resolveColumns(s, undefined, 'f.csv')).toThrow(/field 'user': missing column for 'user'/)
  })
})

describe('readDelimited', () => {
  it('reads quoted multi-line text fields with an explicit map', async () => {
    const f = t.file(
      'reviews.csv',
      'reviewer,product,stars,when,body\n' +
        'u1,i1,5,1000,"Great, really"\n' +
        'u2,i1,3,2000,"line one\nline two with ""quotes"""\n' +
        'u2,i2,4,2020-01-01T00:00:00Z,plain\n',
    )
    const r = rows(
      await readRaw(f, {
        map: { user: 'reviewer', item: 'product', rating: 'stars', timestamp: 'when', text: 'body' },
      }),
    )
    expect(r).toEqual([
      { user: 'u1', item: 'i1', rating: 5, timestamp: 1000, text: 'Great, really' },
      { user: 'u2', item: 'i1', rating: 3, timestamp: 2000, text: 'line one\nline two with "quotes"' },
      { user: 'u2', item: 'i2', rating: 4, timestamp: 1577836800, text: 'plain' },
    ])
  })

  it('defaults to user,item,rating,timestamp without a header', async () => {
    const f = t.file('plain.tsv', '1\t10\t4\t99\n2\t10\t5\t98\n')
    expect(rows(await readRaw(f))).toEqual([
      { user: '1', item: '10', rating: 4, timestamp: 99 },
      { user: '2', item: '10', rating: 5, timestamp: 98 },
    ])
  })

  it('names file, line and field for a short row and a bad number', async () => {
    const short = t.file('short.tsv', 'user_id\titem_id\trating\n1\t2\t5\n3\n')
    await expect(readRaw(short)).rejects.toThrow(
      /short\.tsv, line 3, field 'item': expected at least 3 columns, got 1/,
    )
    const bad = t.file('badnum.csv', 'user,item,rating\na,b,5\nc,d,five\n')
    await expect(readRaw(bad)).rejects.toThrow(/badnum\.csv, line 3, field 'rating': not a number: 'five'/)
  })

  it('reports an unterminated quote at its starting line', async () => {
    const f = t.file('open.csv', 'user,item,text\na,b,ok\nc,d,"never closed\nmore\n')
    await expect(readRaw(f)).rejects.toThrow(/open\.csv, line 3: unterminated quoted field/)
  })

  it('previews raw columns with the guessed mapping', async () => {
    const f = t.file('p.csv', 'userId,movieId,rating,timestamp\n1,2,3.5,100\n4,5,1,200\n7,8,2,300\n')
    const p = await previewFile(f, 2)
    expect(p).toMatchObject({
      format: 'csv',
      sep: ',',
      header: true,
      columns: ['userId', 'movieId', 'rating', 'timestamp'],
    })
    expect(p.rows).toEqual([
      ['1', '2', '3.5', '100'],
      ['4', '5', '1', '200'],
    ])
    expect(p.mapping).toEqual({ user: 0, item: 1, rating: 2, timestamp: 3 })
  })
})
