// Dataset statistics shown by `dataset show` and stored with the dataset: sizes per split, density,
// degree distributions (log-spaced histogram bins), text coverage and lengths, content hash.
import type { RecDataset } from './types'
import type { PreprocessReport } from './preprocess'

export interface Histogram {
  /** Bin i covers [edges[i], edges[i+1]); the last bin is open-ended. */
  edges: number[]
  counts: number[]
}

export interface LengthStats {
  count: number
  meanChars: number
  medianChars: number
  maxChars: number
}

export interface DatasetStats {
  users: number
  items: number
  interactions: { train: number; val: number; test: number; total: number }
  density: number
  userDegree: { min: number; max: number; mean: number; median: number; histogram: Histogram }
  itemDegree: { min: number; max: number; mean: number; median: number; histogram: Histogram }
  usersWithTest: number
  itemsWithoutTrain: number
  text: {
    reviews: LengthStats & { distinct: number; interactionCoverage: number }
    itemTexts: LengthStats & { coverage: number }
    userTexts: LengthStats & { coverage: number }
  }
  preprocessing?: PreprocessReport
  hash: string
}

export const DEGREE_EDGES = [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000]

function histogram(values: Int32Array): Histogram {
  const counts = new Array(DEGREE_EDGES.length).fill(0)
  for (const v of values) {
    let b = DEGREE_EDGES.length - 1
    while (b > 0 && v < DEGREE_EDGES[b]) b--
    counts[b]++
  }
  return { edges: DEGREE_EDGES, counts }
}

function summary(values: Int32Array) {
  const s = Int32Array.from(values).sort()
  const n = s.length
  let sum = 0
  for (const v of s) sum += v
  return {
    min: n ? s[0] : 0,
    max: n ? s[n - 1] : 0,
    mean: n ? sum / n : 0,
    median: n ? (n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) : 0,
    histogram: histogram(values),
  }
}

function lengths(texts: string[]): LengthStats {
  const l = Int32Array.from(texts.map((t) => t.length)).sort()
  const n = l.length
  let sum = 0
  for (const v of l) sum += v
  return {
    count: n,
    meanChars: n ? Math.round((sum / n) * 10) / 10 : 0,
    medianChars: n ? l[Math.floor(n / 2)] : 0,
    maxChars: n ? l[n - 1] : 0,
  }
}

export function computeStats(d: RecDataset, preprocessing?: PreprocessReport): DatasetStats {
  const nu = d.userIds.length
  const ni = d.itemIds.length
  const count = (ls: number[][]) => ls.reduce((a, l) => a + l.length, 0)
  const tr = count(d.train)
  const va = count(d.val)
  const te = count(d.test)
  const total = tr + va + te
  const du = new Int32Array(nu)
  const di = new Int32Array(ni)
  const inTrain = new Uint8Array(ni)
  for (const [s, ls] of [d.train, d.val, d.test].entries())
    ls.forEach((l, u) => {
      du[u] += l.length
      for (const i of l) {
        di[i]++
        if (s === 0) inTrain[i] = 1
      }
    })
  const itemT = d.itemTexts.filter((t): t is string => t !== null && t !== '')
  const userT = d.userTexts.filter((t): t is string => t !== null && t !== '')
  const reviewT = d.reviews.map((r) => r.text)
  return {
    users: nu,
    items: ni,
    interactions: { train: tr, val: va, test: te, total },
    density: nu && ni ? total / (nu * ni) : 0,
    userDegree: summary(du),
    itemDegree: summary(di),
    usersWithTest: d.test.filter((l) => l.length > 0).length,
    itemsWithoutTrain: ni - inTrain.reduce((a, b) => a + b, 0),
    text: {
      reviews: {
        ...lengths(reviewT),
        distinct: new Set(reviewT).size,
        interactionCoverage: total ? d.reviews.length / total : 0,
      },
      itemTexts: { ...lengths(itemT), coverage: ni ? itemT.length / ni : 0 },
      userTexts: { ...lengths(userT), coverage: nu ? userT.length / nu : 0 },
    },
    preprocessing,
    hash: d.hash,
  }
}

/** Human-readable summary for the CLI. */
export function formatStats(name: string, s: DatasetStats): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`
  const h = (x: Histogram) =>
    x.counts
      .map((c, i) =>
        c ? `${x.edges[i]}${i + 1 < x.edges.length ? '-' + (x.edges[i + 1] - 1) : '+'}: ${c}` : '',
      )
      .filter(Boolean)
      .join(', ')
  const lines = [
    `dataset ${name}`,
    `  users ${s.users}, items ${s.items}, density ${s.density.toExponential(3)}`,
    `  interactions ${s.interactions.total} (train ${s.interactions.train} / val ${s.interactions.val} / test ${s.interactions.test})`,
    `  user degree min ${s.userDegree.min} median ${s.userDegree.median} mean ${s.userDegree.mean.toFixed(2)} max ${s.userDegree.max}`,
    `    histogram ${h(s.userDegree.histogram)}`,
    `  item degree min ${s.itemDegree.min} median ${s.itemDegree.median} mean ${s.itemDegree.mean.toFixed(2)} max ${s.itemDegree.max}`,
    `    histogram ${h(s.itemDegree.histogram)}`,
    `  reviews ${s.text.reviews.count} (${s.text.reviews.distinct} distinct, mean ${s.text.reviews.meanChars} chars, covering ${pct(s.text.reviews.interactionCoverage)} of interactions)`,
    `  item texts ${s.text.itemTexts.count} (${pct(s.text.itemTexts.coverage)} of items, mean ${s.text.itemTexts.meanChars} chars)`,
    `  user texts ${s.text.userTexts.count} (${pct(s.text.userTexts.coverage)} of users)`,
  ]
  const p = s.preprocessing
  if (p)
    lines.push(
      `  preprocessing: ${p.rawRows} raw rows, ${p.duplicateRows} duplicates (${p.duplicatePairs} pairs), ` +
        `${p.belowThreshold} below rating threshold, ${p.kcoreRemoved} removed by k-core`,
    )
  lines.push(`  hash ${s.hash}`)
  return lines.join('\n')
}
