// Two-component PCA for the embedding projection view: centre the rows, then the top-2 eigenvectors of
// the covariance by power iteration with deflation (dims <= a few thousand, rows <= maxItems).

export interface Pca2 {
  /** Row-major [n, 2] coordinates. */
  coords: Float64Array
  /** Fraction of total variance explained by PC1 and PC2. */
  explained: [number, number]
}

export function pca2(x: Float64Array, n: number, dim: number, iterations = 200): Pca2 {
  const mean = new Float64Array(dim)
  for (let r = 0; r < n; r++) for (let c = 0; c < dim; c++) mean[c] += x[r * dim + c] / n
  const xc = new Float64Array(n * dim)
  let total = 0
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < dim; c++) {
      const v = x[r * dim + c] - mean[c]
      xc[r * dim + c] = v
      total += v * v
    }
  }
  // Covariance-vector products as X^T (X v), so the dim x dim matrix is never formed.
  const covTimes = (v: Float64Array): Float64Array => {
    const xv = new Float64Array(n)
    for (let r = 0; r < n; r++) {
      let s = 0
      for (let c = 0; c < dim; c++) s += xc[r * dim + c] * v[c]
      xv[r] = s
    }
    const out = new Float64Array(dim)
    for (let r = 0; r < n; r++) for (let c = 0; c < dim; c++) out[c] += xc[r * dim + c] * xv[r]
    return out
  }
  const comps: Float64Array[] = []
  const vars: number[] = []
  for (let k = 0; k < 2; k++) {
    // Deterministic start so the same run always gives the same picture.
    let v: Float64Array = new Float64Array(dim).map((_, i) => Math.sin(i + 1 + k * 7))
    let lambda = 0
    for (let it = 0; it < iterations; it++) {
      let w: Float64Array = covTimes(v)
      for (const u of comps) {
        let dot = 0
        for (let c = 0; c < dim; c++) dot += w[c] * u[c]
        for (let c = 0; c < dim; c++) w[c] -= dot * u[c]
      }
      const norm = Math.hypot(...w)
      if (norm === 0) break
      w = w.map((a) => a / norm)
      lambda = norm
      v = w
    }
    comps.push(v)
    vars.push(lambda)
  }
  const coords = new Float64Array(n * 2)
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < 2; k++) {
      let s = 0
      for (let c = 0; c < dim; c++) s += xc[r * dim + c] * comps[k][c]
      coords[r * 2 + k] = s
    }
  }
  const explained: [number, number] = total > 0 ? [vars[0] / total, vars[1] / total] : [0, 0]
  return { coords, explained }
}
