// Deep links: '#/results?runs=3,5&dataset=2' names the view and its selection, so a reload (or a link
// pasted into a note) opens the same view with the same runs selected.

export interface Route {
  view: string
  params: Record<string, string>
}

export function parseHash(hash: string): Route {
  const m = /^#\/([a-z]+)(?:\?(.*))?$/.exec(hash)
  if (!m) return { view: '', params: {} }
  return { view: m[1], params: Object.fromEntries(new URLSearchParams(m[2] ?? '')) }
}

export function formatHash(r: Route): string {
  const q = new URLSearchParams(Object.entries(r.params).filter(([, v]) => v !== '')).toString()
  return `#/${r.view}${q ? `?${q}` : ''}`
}

/** '3,5,x,3' -> [3, 5]: positive integer ids, each once, in order. */
export function idList(s: string | undefined): number[] {
  const ids = (s ?? '')
    .split(',')
    .map(Number)
    .filter((n) => Number.isSafeInteger(n) && n > 0)
  return [...new Set(ids)]
}
