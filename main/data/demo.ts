// Synthetic demo dataset: users with latent tastes over item groups, short reviews whose words depend on
// the item's group, item texts, and a per-user random 80/10/10 split. Small enough for CI on wasm; the
// structure (group-level taste) is what collaborative filtering should find and popularity cannot.
import { datasetHash } from './dataset-hash'
import type { RecDataset, Review } from './types'
import { mulberry32 } from './prng'

export interface DemoOptions {
  seed: number
  users?: number
  items?: number
  /** Number of item groups (latent topics). */
  groups?: number
  /** Interactions per user (before the split). */
  perUser?: number
  /** Fraction of each user's interactions drawn from their favourite groups. */
  taste?: number
  /** Fraction of training interactions that come with a review (content LLM corpus size). */
  reviewFraction?: number
}

const GROUP_WORDS = [
  ['lipstick', 'matte', 'red', 'shade', 'lips'],
  ['shampoo', 'hair', 'shiny', 'curls', 'scalp'],
  ['serum', 'skin', 'glow', 'hydrating', 'face'],
  ['perfume', 'scent', 'floral', 'fresh', 'lasting'],
  ['polish', 'nails', 'coat', 'chip', 'glossy'],
  ['brush', 'bristles', 'soft', 'blend', 'makeup'],
  ['cream', 'hands', 'dry', 'smooth', 'rich'],
  ['mascara', 'lashes', 'volume', 'black', 'clump'],
]
const OPINION = ['great', 'nice', 'okay', 'love', 'works', 'good', 'cheap', 'pretty']

export function generateDemoDataset(opts: DemoOptions): RecDataset {
  const { U, J, G, perUser, taste, reviewFraction } = demoSizes(opts)
  const rnd = mulberry32(opts.seed)
  const group = Array.from({ length: J }, (_, j) => j % G)
  const byGroup: number[][] = Array.from({ length: G }, () => [])
  group.forEach((g, j) => byGroup[g].push(j))
  // Within a group, a Zipf-like popularity so items are not interchangeable.
  const weight = Array.from({ length: J }, (_, j) => 1 / (1 + Math.floor(j / G)) ** 0.7)
  const all = Array.from({ length: J }, (_, j) => j)
  const train: number[][] = []
  const val: number[][] = []
  const test: number[][] = []
  const reviews: Review[] = []
  const userTexts: string[] = []
  for (let u = 0; u < U; u++) {
    const favs = [Math.floor(rnd() * G)]
    if (rnd() < 0.5) favs.push((favs[0] + 1 + Math.floor(rnd() * (G - 1))) % G)
    const taken = new Set<number>()
    while (taken.size < perUser) {
      const fromFav = rnd() < taste
      const pool = fromFav ? byGroup[favs[Math.floor(rnd() * favs.length)]] : all
      if (pool.every((j) => taken.has(j))) continue
      taken.add(weightedPick(rnd, weight, pool, taken))
    }
    const split = splitUser(shuffled(rnd, [...taken]))
    test.push(split.test)
    val.push(split.val)
    train.push(split.train)
    for (const j of split.train) {
      if (rnd() >= reviewFraction) continue
      reviews.push({ user: u, item: j, text: reviewText(rnd, GROUP_WORDS[group[j]]) })
    }
    userTexts.push(`likes ${favs.map((g) => GROUP_WORDS[g][0]).join(' and ')}`)
  }
  const itemTexts = Array.from(
    { length: J },
    (_, j) => `${GROUP_WORDS[group[j]].slice(0, 3).join(' ')} number ${j}`,
  )
  const userIds = Array.from({ length: U }, (_, u) => `demo-user-${u}`)
  const itemIds = Array.from({ length: J }, (_, j) => `demo-item-${j}`)
  return {
    name: 'demo (synthetic)',
    synthetic: true,
    userIds,
    itemIds,
    train,
    val,
    test,
    reviews,
    itemTexts,
    userTexts,
    splitProtocol: `per-user random 80/10/10 (synthetic, seed ${opts.seed})`,
    // The store's recipe, so a stored demo dataset verifies on load like any import.
    hash: datasetHash({ userIds, itemIds, train, val, test }),
  }
}

function demoSizes(opts: DemoOptions) {
  const U = opts.users ?? 300
  const J = opts.items ?? 120
  const G = Math.min(opts.groups ?? 6, GROUP_WORDS.length)
  const perUser = opts.perUser ?? 12
  if (!Number.isInteger(U) || U < 2) throw new Error('generateDemoDataset: users must be an integer >= 2')
  if (!Number.isInteger(J) || J < G * 3) throw new Error(`generateDemoDataset: items must be >= ${G * 3}`)
  if (perUser < 3 || perUser > J / 2) throw new Error('generateDemoDataset: perUser must be in [3, items/2]')
  return { U, J, G, perUser, taste: opts.taste ?? 0.85, reviewFraction: opts.reviewFraction ?? 0.3 }
}

/** An item of `pool` not yet taken, drawn in proportion to its weight. */
function weightedPick(rnd: () => number, weight: number[], pool: number[], taken: Set<number>): number {
  let total = 0
  for (const j of pool) if (!taken.has(j)) total += weight[j]
  let r = rnd() * total
  for (const j of pool) {
    if (taken.has(j)) continue
    r -= weight[j]
    if (r <= 0) return j
  }
  return pool.find((j) => !taken.has(j)) ?? pool[0]
}

/** Fisher–Yates, in place. */
function shuffled(rnd: () => number, items: number[]): number[] {
  for (let i = items.length - 1; i > 0; i--) {
    const k = Math.floor(rnd() * (i + 1))
    ;[items[i], items[k]] = [items[k], items[i]]
  }
  return items
}

/** A shuffled history as 10% test, 10% validation (at least one each) and the rest training, ascending. */
function splitUser(items: number[]) {
  const nTest = Math.max(1, Math.round(items.length * 0.1))
  const asc = (a: number, b: number) => a - b
  return {
    test: items.slice(0, nTest).sort(asc),
    val: items.slice(nTest, 2 * nTest).sort(asc),
    train: items.slice(2 * nTest).sort(asc),
  }
}

function reviewText(rnd: () => number, words: string[]): string {
  const w = () => words[Math.floor(rnd() * words.length)]
  return `${OPINION[Math.floor(rnd() * OPINION.length)]} ${w()} , ${w()} ${w()} .`
}
