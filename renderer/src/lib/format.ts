// Small display formatters shared by views (numbers, durations, ETA, sizes).

export function fmtNum(n: number | undefined | null, digits = 4): string {
  if (n === undefined || n === null || !Number.isFinite(n)) return '–'
  if (Number.isInteger(n) && Math.abs(n) < 1e7) return n.toLocaleString('en-US')
  return Number(n.toPrecision(digits)).toString()
}

export function fmtPct(f: number | undefined, digits = 1): string {
  if (f === undefined || !Number.isFinite(f)) return '–'
  return (f * 100).toFixed(digits) + '%'
}

export function fmtDuration(sec: number | undefined): string {
  if (sec === undefined || !Number.isFinite(sec) || sec < 0) return '–'
  const s = Math.round(sec)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${s % 60}s`
  return `${Math.floor(m / 60)}h ${m % 60}m`
}

export function fmtEta(sec: number | undefined): string {
  if (sec === undefined || !Number.isFinite(sec) || sec <= 0) return ''
  return `ETA ${fmtDuration(sec)}`
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`
  return `${(n / 1024 ** 3).toFixed(2)} GiB`
}
