// Which model wins a row of a run breakdown (Results): the highest figure, ties included; no winner where
// every model has the same figure or the group is empty.

export function bestModels(values: Record<string, number | null>): Set<string> {
  const scored = Object.entries(values).filter((e): e is [string, number] => e[1] !== null)
  if (scored.length < 2) return new Set()
  const top = Math.max(...scored.map(([, v]) => v))
  const best = scored.filter(([, v]) => v === top).map(([m]) => m)
  return new Set(best.length === scored.length ? [] : best)
}
