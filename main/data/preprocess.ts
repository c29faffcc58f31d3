// Preprocessing from raw interactions to a RecDataset (pure, deterministic):
//   dedup (keep latest or first per user–item pair) -> implicit threshold (rating >= minRating)
//   -> k-core (iterated to a fixed point) -> dense id remap (canonical id order) -> split.
// Split (CLLM4Rec paper §7 protocol, per-user random, not leave-one-out): a user with n >= 3 items gets
// nTest = max(1, floor(n·test)) and nVal = max(1, floor(n·val)) items (0 when that ratio is 0), the rest
// train; users with fewer than 3 items keep all of them in train. This reproduces the counts of the
// authors' own Beauty/Sports splits (val = test = max(1, floor(0.1 n))). A provided split is kept as is.
import type { RecDataset, Review } from './types'
import { DataError } from './errors'
import { RawData, SPLIT_NONE, canonicalIdOrder } from './raw'
import { mulberry32, shuffleInPlace } from './prng'
import { datasetHash } from './dataset-hash'
import { trainingReviews } from './reviews'

export interface PreprocessOptions {
  name: string
  /** Keep only interactions with rating >= minRating (rows without a rating are kept). */
  minRating?: number
  /** Minimum interactions per user and per item, iterated until stable. 0/undefined = off. */
  kcore?: number
  /** Which record of a repeated user–item pair to keep. Default 'latest' (largest timestamp, then last row). */
  dedup?: 'latest' | 'first'
  /** Train/val/test ratios for the random split (ignored when the source provides a split). */
  split?: [number, number, number]
  seed?: number
  /** Force a random split even if the source has one. */
  ignoreProvidedSplit?: boolean
  synthetic?: boolean
}

export interface PreprocessReport {
  rawRows: number
  /** Distinct users / items in the file, before any filter. */
  rawUsers: number
  rawItems: number
  duplicateRows: number
  duplicatePairs: number
  belowThreshold: number
  kcoreRemoved: number
  kcoreIterations: number
  keptRows: number
  providedSplit: boolean
}

/** Ratings / timestamps of the kept interactions, CSR by dense user with items ascending (NaN = absent). */
export interface InteractionValues {
  userPtr: Int32Array
  items: Int32Array
  ratings: Float64Array
  timestamps: Float64Array
}

export const MIN_ITEMS_FOR_SPLIT = 3
export const DEFAULT_SPLIT: [number, number, number] = [0.8, 0.1, 0.1]

/** Stable counting sort of the positions `src` by keys[pos] in 0..k-1. */
function countingSort(src: Int32Array, keys: Int32Array, k: number): Int32Array {
  const n = src.length
  const count = new Int32Array(k + 1)
  for (let i = 0; i < n; i++) count[keys[src[i]] + 1]++
  for (let i = 0; i < k; i++) count[i + 1] += count[i]
  const out = new Int32Array(n)
  for (let i = 0; i < n; i++) out[count[keys[src[i]]]++] = src[i]
  return out
}

/** Positions 0..n-1 ordered by user then item (both ascending), stable: O(n) two counting sorts. */
function sortByUserItem(users: Int32Array, items: Int32Array, n: number, nu: number, ni: number): Int32Array {
  const ident = new Int32Array(n)
  for (let i = 0; i < n; i++) ident[i] = i
  return countingSort(countingSort(ident, items, ni), users, nu)
}

function sortRowsByUserItem(raw: RawData): Int32Array {
  return sortByUserItem(raw.users, raw.items, raw.length, raw.userIds.length, raw.itemIds.length)
}

function interactionValues(
  raw: RawData,
  rows: Int32Array,
  du: Int32Array,
  di: Int32Array,
  nu: number,
  ni: number,
): InteractionValues {
  const n = rows.length
  const order = sortByUserItem(du, di, n, nu, ni)
  const userPtr = new Int32Array(nu + 1)
  for (let i = 0; i < n; i++) userPtr[du[i] + 1]++
  for (let u = 0; u < nu; u++) userPtr[u + 1] += userPtr[u]
  const items = new Int32Array(n)
  const ratings = new Float64Array(n)
  const timestamps = new Float64Array(n)
  for (let k = 0; k < n; k++) {
    const j = order[k]
    items[k] = di[j]
    ratings[k] = raw.ratings[rows[j]]
    timestamps[k] = raw.timestamps[rows[j]]
  }
  return { userPtr, items, ratings, timestamps }
}

export function validateSplit(split: number[]): [number, number, number] {
  if (split.length !== 3 || split.some((x) => !Number.isFinite(x) || x < 0))
    throw new DataError(`--split needs three non-negative ratios, got ${split.join(',')}`)
  const s = split[0] + split[1] + split[2]
  if (Math.abs(s - 1) > 1e-6) throw new DataError(`--split ratios must sum to 1, got ${s}`)
  if (split[0] <= 0) throw new DataError('--split train ratio must be > 0')
  return [split[0], split[1], split[2]]
}

/** Rows kept after dedup (one a user–item pair), in user-then-item order, with each pair's text. */
interface Deduped {
  kept: Int32Array
  keptText: (string | undefined)[]
  /** How many entries of kept are filled. */
  m: number
  duplicatePairs: number
}

/** 1. dedup: rows of one pair are adjacent and in file order after the stable sort. */
function dedupRows(raw: RawData, policy: PreprocessOptions['dedup']): Deduped {
  const n = raw.length
  // Locals instead of property loads in the hot loops (the arrays are reassigned while importing).
  const rawUsers = raw.users
  const rawItems = raw.items
  const rawTs = raw.timestamps
  const rawTexts = raw.texts
  const hasTexts = rawTexts.size > 0
  const textOf = (r: number): string | undefined => (hasTexts ? rawTexts.get(r) : undefined)
  const sorted = sortRowsByUserItem(raw)
  const kept = new Int32Array(n)
  const keptText: (string | undefined)[] = hasTexts ? new Array(n) : []
  let m = 0
  let duplicatePairs = 0
  for (let i = 0; i < n; ) {
    const u = rawUsers[sorted[i]]
    const it = rawItems[sorted[i]]
    let j = i + 1
    while (j < n && rawUsers[sorted[j]] === u && rawItems[sorted[j]] === it) j++
    let best = sorted[i]
    let text = textOf(best)
    if (j - i > 1) {
      duplicatePairs++
      if (policy !== 'first') {
        for (let k = i + 1; k < j; k++) {
          const r = sorted[k]
          const tr = rawTs[r]
          const tb = rawTs[best]
          if (Number.isNaN(tb) || !(tr < tb)) best = r
        }
      }
      text = textOf(best)
      // A kept record without text borrows the latest text of its duplicates rather than losing it.
      for (let k = j - 1; text === undefined && k >= i; k--) text = textOf(sorted[k])
    }
    kept[m] = best
    keptText[m] = text
    m++
    i = j
  }
  return { kept, keptText, m, duplicatePairs }
}

/** 2. implicit threshold: which kept rows stay active (rows without a rating do). */
function thresholdMask(raw: RawData, d: Deduped, minRating: number | undefined) {
  const active = new Uint8Array(d.m).fill(1)
  let belowThreshold = 0
  if (minRating !== undefined) {
    for (let i = 0; i < d.m; i++) {
      const r = raw.ratings[d.kept[i]]
      if (!Number.isNaN(r) && r < minRating) {
        active[i] = 0
        belowThreshold++
      }
    }
  }
  return { active, belowThreshold }
}

/** 3. k-core to a fixed point (removing an item can push a user below k and vice versa); clears active. */
function kcoreFilter(raw: RawData, d: Deduped, active: Uint8Array, k: number) {
  let kcoreRemoved = 0
  let kcoreIterations = 0
  if (k <= 1) return { kcoreRemoved, kcoreIterations }
  const rawUsers = raw.users
  const rawItems = raw.items
  const du = new Int32Array(raw.userIds.length)
  const di = new Int32Array(raw.itemIds.length)
  for (;;) {
    kcoreIterations++
    du.fill(0)
    di.fill(0)
    for (let i = 0; i < d.m; i++)
      if (active[i]) {
        du[rawUsers[d.kept[i]]]++
        di[rawItems[d.kept[i]]]++
      }
    let removed = 0
    for (let i = 0; i < d.m; i++)
      if (active[i] && (du[rawUsers[d.kept[i]]] < k || di[rawItems[d.kept[i]]] < k)) {
        active[i] = 0
        removed++
      }
    kcoreRemoved += removed
    if (removed === 0) break
  }
  return { kcoreRemoved, kcoreIterations }
}

/** Output ids in canonical order and the dense index of each raw id (-1: dropped). */
interface DenseIds {
  outIds: string[]
  fromRaw: Int32Array
}

/**
 * 4. dense remap in canonical id order. Declared ids (CLLM4Rec num_users/num_items) survive only when
 * nothing was filtered out, so filtering never leaves phantom users.
 */
function denseIds(raw: RawData, d: Deduped, active: Uint8Array, filtered: boolean) {
  const userSeen = new Uint8Array(raw.userIds.length)
  const itemSeen = new Uint8Array(raw.itemIds.length)
  let keptRows = 0
  for (let i = 0; i < d.m; i++)
    if (active[i]) {
      userSeen[raw.users[d.kept[i]]] = 1
      itemSeen[raw.items[d.kept[i]]] = 1
      keptRows++
    }
  if (keptRows === 0)
    throw new DataError('no interactions left after filtering (check --min-rating / --kcore)')
  const remap = (ids: string[], seen: Uint8Array, declared: string[] | null): DenseIds => {
    const pool = new Set<string>()
    for (let i = 0; i < ids.length; i++) if (seen[i]) pool.add(ids[i])
    if (declared && !filtered) for (const id of declared) pool.add(id)
    const list = [...pool]
    const outIds = canonicalIdOrder(list).map((i) => list[i])
    const dense = new Map<string, number>()
    outIds.forEach((id, i) => dense.set(id, i))
    const fromRaw = new Int32Array(ids.length).fill(-1)
    for (let i = 0; i < ids.length; i++) fromRaw[i] = dense.get(ids[i]) ?? -1
    return { outIds, fromRaw }
  }
  return {
    U: remap(raw.userIds, userSeen, raw.declaredUsers),
    I: remap(raw.itemIds, itemSeen, raw.declaredItems),
    keptRows,
  }
}

/** The active rows in dense ids (for InteractionValues), and the reviews they carry. */
interface ActiveRows {
  raw: Int32Array
  users: Int32Array
  items: Int32Array
  reviews: Review[]
}

/**
 * 5. split: the provided labels, or per-user random (the module header's rule). Returns the sorted lists
 * and the active rows; reviews are not yet restricted to training pairs.
 */
function splitRows(
  raw: RawData,
  d: Deduped,
  active: Uint8Array,
  ids: { U: DenseIds; I: DenseIds; keptRows: number },
  provided: boolean,
  ratios: [number, number, number],
  seed: number,
) {
  const nu = ids.U.outIds.length
  const train: number[][] = Array.from({ length: nu }, () => [])
  const val: number[][] = Array.from({ length: nu }, () => [])
  const test: number[][] = Array.from({ length: nu }, () => [])
  const perUser: number[][] = Array.from({ length: nu }, () => [])
  const lists = [train, val, test]
  const rows: ActiveRows = {
    raw: new Int32Array(ids.keptRows),
    users: new Int32Array(ids.keptRows),
    items: new Int32Array(ids.keptRows),
    reviews: [],
  }
  const rawUsers = raw.users
  const rawItems = raw.items
  let q = 0
  for (let i = 0; i < d.m; i++) {
    if (!active[i]) continue
    const r = d.kept[i]
    const u = ids.U.fromRaw[rawUsers[r]]
    const it = ids.I.fromRaw[rawItems[r]]
    rows.raw[q] = r
    rows.users[q] = u
    rows.items[q++] = it
    if (provided) {
      if (raw.splits[r] === SPLIT_NONE) throw new DataError('row without split label in a provided split')
      lists[raw.splits[r]][u].push(it)
    } else perUser[u].push(it)
    const t = d.keptText[i]
    if (t !== undefined) rows.reviews.push({ user: u, item: it, text: t })
  }
  let splitProtocol: string
  if (provided) {
    splitProtocol = 'provided by the source (kept as is)'
  } else {
    const rand = mulberry32(seed)
    for (let u = 0; u < nu; u++) {
      const items = perUser[u].sort((a, b) => a - b)
      if (items.length < MIN_ITEMS_FOR_SPLIT) {
        train[u] = items
        continue
      }
      shuffleInPlace(items, rand)
      const nt = ratios[2] > 0 ? Math.max(1, Math.floor(items.length * ratios[2])) : 0
      const nv = ratios[1] > 0 ? Math.max(1, Math.floor(items.length * ratios[1])) : 0
      test[u] = items.slice(0, nt)
      val[u] = items.slice(nt, nt + nv)
      train[u] = items.slice(nt + nv)
    }
    const pct = ratios.map((x) => Math.round(x * 1000) / 10).join('/')
    splitProtocol =
      `per-user random ${pct}, seed ${seed}; val/test = max(1, floor(n*ratio)); ` +
      `users with < ${MIN_ITEMS_FOR_SPLIT} items all in train`
  }
  for (const l of lists) for (const x of l) x.sort((a, b) => a - b)
  return { train, val, test, rows, splitProtocol }
}

export function preprocess(
  raw: RawData,
  opts: PreprocessOptions,
): { dataset: RecDataset; report: PreprocessReport; values: InteractionValues } {
  const n = raw.length
  if (n === 0) throw new DataError('no interactions found')
  const provided = raw.labelledRows > 0 && !opts.ignoreProvidedSplit
  if (provided && raw.labelledRows !== n) throw new DataError('some rows carry a split label and some do not')
  const ratios = validateSplit(opts.split ?? DEFAULT_SPLIT)

  const deduped = dedupRows(raw, opts.dedup)
  const { active, belowThreshold } = thresholdMask(raw, deduped, opts.minRating)
  const { kcoreRemoved, kcoreIterations } = kcoreFilter(raw, deduped, active, opts.kcore ?? 0)
  const ids = denseIds(raw, deduped, active, belowThreshold + kcoreRemoved > 0)
  const { train, val, test, rows, splitProtocol } = splitRows(
    raw,
    deduped,
    active,
    ids,
    provided,
    ratios,
    opts.seed ?? 1,
  )
  // Validation/test reviews are dropped here, at the source: nothing downstream can leak them.
  const trainReviews = trainingReviews({ train, reviews: rows.reviews })
  trainReviews.sort((a, b) => a.user - b.user || a.item - b.item)

  const { U, I } = ids
  const core = { userIds: U.outIds, itemIds: I.outIds, train, val, test }
  const dataset: RecDataset = {
    name: opts.name,
    synthetic: opts.synthetic ?? false,
    ...core,
    reviews: trainReviews,
    itemTexts: I.outIds.map((id) => raw.itemTexts.get(id) ?? null),
    userTexts: U.outIds.map((id) => raw.userTexts.get(id) ?? null),
    splitProtocol,
    hash: datasetHash(core),
  }
  return {
    dataset,
    values: interactionValues(raw, rows.raw, rows.users, rows.items, U.outIds.length, I.outIds.length),
    report: {
      rawRows: n,
      rawUsers: raw.userIds.length,
      rawItems: raw.itemIds.length,
      duplicateRows: n - deduped.m,
      duplicatePairs: deduped.duplicatePairs,
      belowThreshold,
      kcoreRemoved,
      kcoreIterations,
      keptRows: ids.keptRows,
      providedSplit: provided,
    },
  }
}
