// Series colours: the theme's --series-0..7 variables (styles.css), as CSS for SVG and resolved to
// concrete colours for canvas charts (uPlot cannot read CSS variables).

export const SERIES_COLORS = 8

export function seriesColor(i: number): string {
  return `var(--series-${i % SERIES_COLORS})`
}

export function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim()
  return v || fallback
}

export function resolvedSeriesColor(i: number): string {
  return cssVar(`--series-${i % SERIES_COLORS}`, '#3b82f6')
}
