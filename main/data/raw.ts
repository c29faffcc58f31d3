// Raw interactions as importers produce them: original id strings, optional rating / timestamp / text
// and, for layouts that ship their own split, a split label. Stored column-wise in growable typed arrays
// with interned ids, so 5 million rows cost ~30 bytes each instead of one JS object per row.

export const SPLIT_NONE = -1
export const SPLIT_TRAIN = 0
export const SPLIT_VAL = 1
export const SPLIT_TEST = 2
export type SplitLabel = typeof SPLIT_TRAIN | typeof SPLIT_VAL | typeof SPLIT_TEST
export const SPLIT_NAMES = ['train', 'val', 'test'] as const

/** What importers write into; keeps importers independent of the storage layout. */
export interface RawSink {
  add(
    user: string,
    item: string,
    rating?: number,
    ts?: number,
    text?: string | null,
    split?: SplitLabel,
  ): void
  setItemText(item: string, text: string): void
  setUserText(user: string, text: string): void
  /** Ids that exist even without interactions (e.g. CLLM4Rec's num_users / num_items). */
  declareUsers(ids: string[]): void
  declareItems(ids: string[]): void
}

export interface RawInteraction {
  user: string
  item: string
  rating?: number
  timestamp?: number
  text?: string
  split?: (typeof SPLIT_NAMES)[number]
}

export class RawData implements RawSink {
  readonly userIds: string[] = []
  readonly itemIds: string[] = []
  private readonly userIndex = new Map<string, number>()
  private readonly itemIndex = new Map<string, number>()
  // Canonical integer ids ("0", "17", not "017") are interned by numeric value: hashing a number is far
  // cheaper than hashing a freshly sliced string, and most datasets use integer ids.
  private readonly userNum = new NumIndex()
  private readonly itemNum = new NumIndex()
  length = 0
  users = new Int32Array(1024)
  items = new Int32Array(1024)
  /** NaN when absent. */
  ratings = new Float64Array(1024)
  /** NaN when absent. */
  timestamps = new Float64Array(1024)
  splits = new Int8Array(1024)
  /** Row -> review text (sparse). */
  readonly texts = new Map<number, string>()
  /** Original item id -> text. */
  readonly itemTexts = new Map<string, string>()
  readonly userTexts = new Map<string, string>()
  declaredUsers: string[] | null = null
  declaredItems: string[] | null = null
  labelledRows = 0

  private intern(map: Map<string, number>, num: NumIndex, ids: string[], id: string): number {
    const v = canonicalInt(id)
    if (v >= 0) {
      let ix = num.get(v)
      if (ix < 0) {
        ix = ids.length
        ids.push(id)
        num.set(v, ix)
      }
      return ix
    }
    let ix = map.get(id)
    if (ix === undefined) {
      ix = ids.length
      ids.push(id)
      map.set(id, ix)
    }
    return ix
  }

  private grow(): void {
    const cap = this.users.length * 2
    const g = <T extends Int32Array | Float64Array | Int8Array>(a: T, C: new (n: number) => T): T => {
      const b = new C(cap)
      b.set(a)
      return b
    }
    this.users = g(this.users, Int32Array)
    this.items = g(this.items, Int32Array)
    this.ratings = g(this.ratings, Float64Array)
    this.timestamps = g(this.timestamps, Float64Array)
    this.splits = g(this.splits, Int8Array)
  }

  add(
    user: string,
    item: string,
    rating?: number,
    ts?: number,
    text?: string | null,
    split?: SplitLabel,
  ): void {
    if (this.length === this.users.length) this.grow()
    const r = this.length++
    this.users[r] = this.intern(this.userIndex, this.userNum, this.userIds, user)
    this.items[r] = this.intern(this.itemIndex, this.itemNum, this.itemIds, item)
    this.ratings[r] = rating ?? NaN
    this.timestamps[r] = ts ?? NaN
    this.splits[r] = split ?? SPLIT_NONE
    if (split !== undefined) this.labelledRows++
    if (text) this.texts.set(r, text)
  }

  setItemText(item: string, text: string): void {
    this.itemTexts.set(item, text)
  }

  setUserText(user: string, text: string): void {
    this.userTexts.set(user, text)
  }

  declareUsers(ids: string[]): void {
    this.declaredUsers = ids
  }

  declareItems(ids: string[]): void {
    this.declaredItems = ids
  }

  row(r: number): RawInteraction {
    const out: RawInteraction = { user: this.userIds[this.users[r]], item: this.itemIds[this.items[r]] }
    if (!Number.isNaN(this.ratings[r])) out.rating = this.ratings[r]
    if (!Number.isNaN(this.timestamps[r])) out.timestamp = this.timestamps[r]
    const t = this.texts.get(r)
    if (t !== undefined) out.text = t
    if (this.splits[r] !== SPLIT_NONE) out.split = SPLIT_NAMES[this.splits[r]]
    return out
  }
}

/** Integer -> index: a direct table for small values (no hashing), a Map beyond TABLE_MAX. */
class NumIndex {
  static readonly TABLE_MAX = 1 << 24
  private table = new Int32Array(1024).fill(-1)
  private readonly big = new Map<number, number>()

  get(v: number): number {
    if (v < this.table.length) return this.table[v]
    if (v < NumIndex.TABLE_MAX) return -1
    return this.big.get(v) ?? -1
  }

  set(v: number, ix: number): void {
    if (v >= NumIndex.TABLE_MAX) {
      this.big.set(v, ix)
      return
    }
    if (v >= this.table.length) {
      let cap = this.table.length
      while (cap <= v) cap *= 2
      const t = new Int32Array(cap).fill(-1)
      t.set(this.table)
      this.table = t
    }
    this.table[v] = ix
  }
}

/** The value of a canonical non-negative integer id of at most 15 digits (exact as a double), else -1. */
function canonicalInt(s: string): number {
  const n = s.length
  if (n === 0 || n > 15 || (n > 1 && s.charCodeAt(0) === 48)) return -1
  let v = 0
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i) - 48
    if (c < 0 || c > 9) return -1
    v = v * 10 + c
  }
  return v
}

/** Canonical id order: numeric order when every id is a non-negative integer (any size), else code-unit order. */
export function canonicalIdOrder(ids: string[]): number[] {
  const order = ids.map((_, i) => i)
  const numeric = ids.every((s) => /^(0|[1-9][0-9]*)$/.test(s))
  order.sort((a, b) => {
    const x = ids[a]
    const y = ids[b]
    if (numeric && x.length !== y.length) return x.length - y.length
    return x < y ? -1 : x > y ? 1 : 0
  })
  return order
}
