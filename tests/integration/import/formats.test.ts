// Format detection, previews and the smaller formats (RecBole atomic files, MovieLens-1M '::',
// Amazon item metadata, 2014 field names) on hand-written files.
import { afterAll, describe, expect, it } from 'vitest'
import path from 'node:path'
import { buildDataset, detectFormat, previewFile } from '../../../main/data/import-source'
import { gz, readRaw, rows, tempDir } from '../../unit/data/helpers'

const t = tempDir('cllm4rec-formats-')
afterAll(t.cleanup)

describe('RecBole atomic files', () => {
  it('reads .inter with name:type header plus .item texts', async () => {
    const inter = t.file(
      'rb/ml.inter',
      'user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t10\t4\t100\n1\t11\t5\t101\n2\t10\t3\t102\n',
    )
    t.file(
      'rb/ml.item',
      'item_id:token\tmovie_title:token_seq\trelease_year:token\n10\tToy Story\t1995\n11\tHeat\t1995\n',
    )
    expect(await detectFormat(path.dirname(inter))).toBe('recbole')
    expect(await detectFormat(inter)).toBe('recbole')
    const b = await buildDataset(inter, { split: [1, 0, 0] })
    expect(b.stats.interactions.total).toBe(3)
    expect(b.dataset.itemTexts).toEqual(['Toy Story, 1995', 'Heat, 1995'])
  })
  it('reads a provided .train/.valid/.test split', async () => {
    t.file('rbs/x.train.inter', 'user_id:token\titem_id:token\nu\ta\nu\tb\n')
    t.file('rbs/x.valid.inter', 'user_id:token\titem_id:token\nu\tc\n')
    t.file('rbs/x.test.inter', 'user_id:token\titem_id:token\nu\td\n')
    const b = await buildDataset(path.join(t.dir, 'rbs'))
    expect([b.dataset.train, b.dataset.val, b.dataset.test]).toEqual([[[0, 1]], [[2]], [[3]]])
  })
  it('names the header field with a bad type and the line with a wrong value count', async () => {
    const bad = t.file('rb2/a.inter', 'user_id:token\titem_id:str\n1\t2\n')
    await expect(buildDataset(bad)).rejects.toThrow(/a\.inter, line 1, field 'item_id:str': header column 2/)
    const short = t.file('rb3/b.inter', 'user_id:token\titem_id:token\trating:float\n1\t2\t3\n4\t5\n')
    await expect(buildDataset(short)).rejects.toThrow(
      /b\.inter, line 3, field 'rating': expected 3 tab-separated values, got 2/,
    )
    const nan = t.file('rb4/c.inter', 'user_id:token\titem_id:token\trating:float\n1\t2\tx\n')
    await expect(buildDataset(nan)).rejects.toThrow(/c\.inter, line 2, field 'rating': not a number/)
  })
})

describe('MovieLens-1M layout', () => {
  it("reads ratings.dat / movies.dat ('::', latin-1 titles)", async () => {
    t.file('ml1m/ratings.dat', '1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n')
    t.file(
      'ml1m/movies.dat',
      Buffer.concat([
        Buffer.from('1193::One Flew (1975)::Drama\n661::James (1996)::Animation|Children'),
        Buffer.from([0xe9]),
        Buffer.from('s\n'),
      ]),
    )
    const dir = path.join(t.dir, 'ml1m')
    expect(await detectFormat(dir)).toBe('movielens')
    expect(await detectFormat(path.join(dir, 'ratings.dat'))).toBe('movielens')
    const b = await buildDataset(dir, { split: [1, 0, 0] })
    expect(b.dataset.itemIds).toEqual(['661', '1193'])
    expect(b.dataset.itemTexts).toEqual([
      'James (1996), genres: Animation, Childrenés',
      'One Flew (1975), genres: Drama',
    ])
  })
})

describe('Amazon', () => {
  it('accepts 2014-style records and a metadata file (title, categories, description) as item texts', async () => {
    const reviews = t.file(
      'amz/reviews_Toys.json.gz',
      gz(
        '{"reviewerID": "A1", "asin": "B1", "overall": 4.0, "reviewText": "fun", "summary": "s", "unixReviewTime": 1}\n' +
          '{"reviewerID": "A2", "asin": "B2", "overall": 5.0, "summary": "only a summary", "unixReviewTime": 2}\n',
      ),
    )
    const meta = t.file(
      'amz/meta_Toys.json',
      '{"asin": "B1", "title": "Kite", "categories": [["Toys", "Outdoor"]], "description": "Flies high."}\n' +
        '{"asin": "B2", "title": "Ball", "category": ["Toys"], "brand": "Acme"}\n',
    )
    expect(await detectFormat(reviews)).toBe('amazon')
    const b = await buildDataset(reviews, { itemsFile: meta, split: [1, 0, 0] })
    expect(b.dataset.itemTexts).toEqual(['Kite. Toys, Outdoor. Flies high.', 'Ball. Toys. Acme'])
    expect(b.dataset.reviews.map((r) => r.text)).toEqual(['fun', 'only a summary'])
    expect(b.source.files).toEqual([reviews, meta])
    const p = await previewFile(reviews, 1)
    expect(p.rows).toEqual([['A1', 'B1', '4', '1', 'fun', '']])
  })
  it('accepts 2014 metadata written as Python literals', async () => {
    const reviews = t.file('amz14/r.json', '{"reviewerID": "A1", "asin": "0001", "overall": 5.0}\n')
    const meta = t.file(
      'amz14/meta.json.gz',
      gz(
        `{'asin': '0001', 'title': "Kid's \\'Book\\'", 'categories': [['Books', 'Kids']], 'salesRank': {'Books': 5}, 'price': 3.5, 'x': None}\n`,
      ),
    )
    const b = await buildDataset(reviews, { itemsFile: meta, split: [1, 0, 0] })
    expect(b.dataset.itemTexts).toEqual(["Kid's 'Book'. Books, Kids"])
    const bad = t.file('amz14/bad.json', `{'asin': '0001', 'title': 'open\n`)
    await expect(buildDataset(reviews, { itemsFile: bad })).rejects.toThrow(
      /bad\.json, line 1: neither JSON nor a Python literal/,
    )
  })
  it('accepts 2023-style names (user_id, parent_asin, rating, text, timestamp in ms)', async () => {
    const f = t.file(
      'amz23.jsonl',
      '{"user_id": "U", "parent_asin": "P", "rating": 3, "text": "t", "timestamp": 1600000000000}\n',
    )
    expect(rows(await readRaw(f))).toEqual([
      { user: 'U', item: 'P', rating: 3, timestamp: 1600000000, text: 't' },
    ])
  })
})

describe('detectFormat', () => {
  it('recognises layouts and refuses unknown inputs clearly', async () => {
    const data = path.resolve(__dirname, '../../../../shared/data')
    expect(await detectFormat(`${data}/amazon-cllm4rec/beauty/original`)).toBe('cllm4rec')
    expect(await detectFormat(`${data}/amazon-cllm4rec/beauty/converted/meta.json`)).toBe('cllm4rec')
    expect(await detectFormat(t.file('x.csv', 'a,b\n1,2\n'))).toBe('csv')
    await expect(detectFormat(t.file('odd.jsonl', '{"foo": 1}\n'))).rejects.toThrow(
      /odd\.jsonl, line 1: JSON Lines with unknown fields \(foo\)/,
    )
    await expect(detectFormat(path.join(t.dir, 'missing.csv'))).rejects.toThrow(
      /missing\.csv: file not found/,
    )
    await expect(detectFormat(t.file('empty/.keep', ''))).rejects.toThrow(/\.keep: empty file/)
    await expect(detectFormat(path.join(t.dir, 'empty'))).rejects.toThrow(/folder has no known layout/)
    const zip = t.file('a.zip', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0]))
    await expect(detectFormat(zip)).rejects.toThrow(/a zip archive/)
  })
})
