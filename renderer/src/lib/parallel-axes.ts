// Axes of the parallel-coordinates view: every numeric setting that differs between the runs, then the
// three test metrics; each axis scaled to its own min..max (a constant axis sits in the middle).
import type { RunDetail } from '../../../preload/api'
import { settingsOf } from './run-diff'

export interface Axis {
  key: string
  min: number
  max: number
  /** Per run, in input order; NaN when the run has no such value. */
  values: number[]
}

type AxisInput = Parameters<typeof settingsOf>[0] & Pick<RunDetail, 'test'>

export function parallelAxes(runs: AxisInput[]): Axis[] {
  const maps = runs.map(settingsOf)
  const keys = [...new Set(maps.flatMap((m) => Object.keys(m)))].sort()
  const axes: Axis[] = []
  const add = (key: string, values: number[]) => {
    const ok = values.filter(Number.isFinite)
    if (ok.length) axes.push({ key, values, min: Math.min(...ok), max: Math.max(...ok) })
  }
  for (const key of keys) {
    if (key === 'dataHash') continue
    const values = maps.map((m) => Number(m[key]))
    if (values.every(Number.isFinite) && new Set(values).size > 1) add(key, values)
  }
  for (const m of ['recall20', 'recall40', 'ndcg100'] as const)
    add(
      `test.${m}`,
      runs.map((r) => r.test?.[m] ?? NaN),
    )
  return axes
}

/** 0..1 position of v on the axis (0.5 for a constant axis). */
export function axisPos(a: Axis, v: number): number {
  return a.max > a.min ? (v - a.min) / (a.max - a.min) : 0.5
}
