// Linear scales and "nice" tick values for the hand-written SVG charts.

export interface Scale {
  (v: number): number
  ticks: number[]
}

/** Round step to 1, 2 or 5 × 10^k so tick labels stay short. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return []
  if (lo === hi) return [lo]
  const raw = (hi - lo) / count
  const pow = 10 ** Math.floor(Math.log10(raw))
  // Nearest of 1, 2, 5, 10 on a log scale (thresholds at the geometric means), as d3 does.
  const err = raw / pow
  const step = pow * (err >= Math.sqrt(50) ? 10 : err >= Math.sqrt(10) ? 5 : err >= Math.SQRT2 ? 2 : 1)
  const out: number[] = []
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(Number(v.toPrecision(12)))
  return out
}

export function linearScale(domain: [number, number], range: [number, number], count = 5): Scale {
  let [d0, d1] = domain
  if (d0 === d1) [d0, d1] = [d0 - 1, d1 + 1]
  const [r0, r1] = range
  const f = ((v: number) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0)) as Scale
  f.ticks = niceTicks(d0, d1, count)
  return f
}

export function extent(values: number[]): [number, number] {
  let lo = Infinity
  let hi = -Infinity
  for (const v of values) {
    if (!Number.isFinite(v)) continue
    if (v < lo) lo = v
    if (v > hi) hi = v
  }
  return lo === Infinity ? [0, 1] : [lo, hi]
}

export function tickLabel(v: number): string {
  const a = Math.abs(v)
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(1)
  return Number(v.toPrecision(4)).toString()
}
