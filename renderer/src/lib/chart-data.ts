// Pure helpers for the uPlot charts: series aligned on one x array (uPlot's data layout), exponential
// moving-average smoothing (TensorBoard's slider) and the y range of reference lines.

export interface LineSeries {
  name: string
  points: [number, number][]
}

/** [xs, ys_0, ys_1, ...] over the union of every series' x; a series without a point at x gets null. */
export function alignSeries(series: LineSeries[]): [number[], ...(number | null)[][]] {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b)
  const at = new Map(xs.map((x, i) => [x, i]))
  const ys = series.map((s) => {
    const out: (number | null)[] = new Array(xs.length).fill(null)
    for (const [x, y] of s.points) out[at.get(x)!] = y
    return out
  })
  return [xs, ...ys]
}

/**
 * Debiased EMA with weight w in [0, 1) (0 = raw); nulls stay null and do not reset the average, so a
 * series with gaps smooths as if the gaps were not there.
 */
export function smooth(ys: (number | null)[], w: number): (number | null)[] {
  if (w <= 0) return ys
  let last = 0
  let n = 0
  return ys.map((y) => {
    if (y === null || !Number.isFinite(y)) return y
    last = last * w + (1 - w) * y
    n++
    return last / (1 - Math.pow(w, n))
  })
}

/** Drops non-positive values for a log axis (they cannot be drawn there). */
export function forLog(ys: (number | null)[]): (number | null)[] {
  return ys.map((y) => (y !== null && y > 0 ? y : null))
}

/** Tick steps for an x axis of whole numbers (steps, epochs): 1, 2, 5, 10, 20, 50, ... up to 5e9. */
export const INTEGER_INCREMENTS: number[] = Array.from(
  { length: 30 },
  (_, i) => [1, 2, 5][i % 3] * 10 ** Math.floor(i / 3),
)

/** True when every x of every series is a whole number: the axis then never labels 2.5 steps. */
export function integerX(series: LineSeries[]): boolean {
  return series.every((s) => s.points.every((p) => Number.isInteger(p[0])))
}
