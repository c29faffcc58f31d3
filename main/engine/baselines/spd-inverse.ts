// Inverse of a symmetric positive-definite matrix in Float64 (for EASE, CLLM4REC.md §7 baselines):
// blocked left-looking Cholesky A = L Lᵀ, then U = L⁻ᵀ, then A⁻¹ = Uᵀ... written as row dot products
// P[i][j] = Σ_k U[i][k] U[j][k] so every inner loop walks contiguous memory. Each phase costs n³/6
// multiply-adds and runs in one 4x4 register-blocked kernel (plain JS, no SIMD: about 3 GFMA/s).
// Where the optional native addon loads, LAPACK's dpotrf + dpotri do the same in float64, much faster.
import { loadNative } from '../backend'

/** C[cr+r][cc+c] -= Σ_{k0<=k<k1} X[xr+r][k] · Y[yr+c][k] for a rows x cols block (both multiples of 4). */
function kernelNT(
  X: Float64Array,
  xr: number,
  Y: Float64Array,
  yr: number,
  C: Float64Array,
  cr: number,
  cc: number,
  rows: number,
  cols: number,
  k0: number,
  k1: number,
  ld: number,
): void {
  // Chunks of K keep the 4-row X and Y panels in L1/L2 across the block (about 2x on long K).
  for (let ks = k0; ks < k1; ks += KC)
    kernelChunk(X, xr, Y, yr, C, cr, cc, rows, cols, ks, Math.min(k1, ks + KC), ld)
}

const KC = 256

function kernelChunk(
  X: Float64Array,
  xr: number,
  Y: Float64Array,
  yr: number,
  C: Float64Array,
  cr: number,
  cc: number,
  rows: number,
  cols: number,
  k0: number,
  k1: number,
  ld: number,
): void {
  for (let i = 0; i < rows; i += 4) {
    const a0 = (xr + i) * ld
    const a1 = a0 + ld
    const a2 = a1 + ld
    const a3 = a2 + ld
    for (let j = 0; j < cols; j += 4) {
      const b0 = (yr + j) * ld
      const b1 = b0 + ld
      const b2 = b1 + ld
      const b3 = b2 + ld
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0 // prettier-ignore
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0 // prettier-ignore
      for (let k = k0; k < k1; k++) {
        const x0 = X[a0 + k], x1 = X[a1 + k], x2 = X[a2 + k], x3 = X[a3 + k] // prettier-ignore
        const y0 = Y[b0 + k], y1 = Y[b1 + k], y2 = Y[b2 + k], y3 = Y[b3 + k] // prettier-ignore
        c00 += x0 * y0
        c01 += x0 * y1
        c02 += x0 * y2
        c03 += x0 * y3 // prettier-ignore
        c10 += x1 * y0
        c11 += x1 * y1
        c12 += x1 * y2
        c13 += x1 * y3 // prettier-ignore
        c20 += x2 * y0
        c21 += x2 * y1
        c22 += x2 * y2
        c23 += x2 * y3 // prettier-ignore
        c30 += x3 * y0
        c31 += x3 * y1
        c32 += x3 * y2
        c33 += x3 * y3 // prettier-ignore
      }
      let c = (cr + i) * ld + cc + j
      C[c] -= c00
      C[c + 1] -= c01
      C[c + 2] -= c02
      C[c + 3] -= c03
      c += ld // prettier-ignore
      C[c] -= c10
      C[c + 1] -= c11
      C[c + 2] -= c12
      C[c + 3] -= c13
      c += ld // prettier-ignore
      C[c] -= c20
      C[c + 1] -= c21
      C[c + 2] -= c22
      C[c + 3] -= c23
      c += ld // prettier-ignore
      C[c] -= c30
      C[c + 1] -= c31
      C[c + 2] -= c32
      C[c + 3] -= c33 // prettier-ignore
    }
  }
}

const NB = 64

export interface SpdInverseOptions {
  onProgress?: (fraction: number) => void
  signal?: AbortSignal
  /** Use the native LAPACK inverse when the addon loads (default true); false forces plain JS. */
  native?: boolean
}

/**
 * Returns A⁻¹ (full symmetric, row-major n x n) of the SPD matrix A (row-major, only the lower triangle
 * is read). Throws when A is not positive definite, naming the failing pivot.
 */
export function spdInverse(A: Float64Array, n: number, opts: SpdInverseOptions = {}): Float64Array {
  if (A.length !== n * n) throw new Error(`spdInverse: A has ${A.length} entries, expected ${n}x${n}`)
  const native = opts.native === false ? undefined : tryNative()
  if (native) {
    opts.signal?.throwIfAborted()
    const P = Float64Array.from(A) // LAPACK works in place; the caller's A stays intact
    native.spdInverse(P, n)
    opts.onProgress?.(1)
    return P
  }
  const m = Math.ceil(n / NB) * NB // padded size; the padding is an identity block
  const L = new Float64Array(m * m)
  for (let i = 0; i < n; i++) L.set(A.subarray(i * n, i * n + i + 1), i * m)
  for (let i = n; i < m; i++) L[i * m + i] = 1
  const blocks = m / NB
  const report = (phase: number, b: number) => opts.onProgress?.((phase + b / blocks) / 3)

  // Phase 1: Cholesky, left-looking by block columns.
  for (let J0 = 0; J0 < m; J0 += NB) {
    opts.signal?.throwIfAborted()
    if (J0 > 0) kernelNT(L, J0, L, J0, L, J0, J0, m - J0, NB, 0, J0, m)
    for (let j = J0; j < J0 + NB; j++) {
      const rj = j * m
      let d = L[rj + j]
      for (let k = J0; k < j; k++) d -= L[rj + k] * L[rj + k]
      if (!(d > 0)) throw new Error(`spdInverse: matrix is not positive definite (pivot ${j} = ${d})`)
      const ljj = Math.sqrt(d)
      L[rj + j] = ljj
      for (let i = j + 1; i < m; i++) {
        const ri = i * m
        let s = L[ri + j]
        for (let k = J0; k < j; k++) s -= L[ri + k] * L[rj + k]
        L[ri + j] = s / ljj
      }
    }
    report(0, J0 / NB + 1)
  }

  // Phase 2: U = L⁻ᵀ (upper triangular), row j of U solved against rows of L.
  const U = new Float64Array(m * m)
  for (let I0 = 0; I0 < m; I0 += NB) {
    opts.signal?.throwIfAborted()
    for (let J0 = 0; J0 < I0; J0 += NB) kernelNT(U, J0, L, I0, U, J0, I0, NB, NB, J0, I0, m)
    for (let j = 0; j < I0 + NB; j++) {
      const rj = j * m
      const start = Math.max(I0, j)
      for (let i = start; i < I0 + NB; i++) {
        const ri = i * m
        let s = (i === j ? 1 : 0) + U[rj + i]
        for (let k = Math.max(I0, j); k < i; k++) s -= L[ri + k] * U[rj + k]
        U[rj + i] = s / L[ri + i]
      }
    }
    report(1, I0 / NB + 1)
  }

  // Phase 3: P = A⁻¹ = Uᵀ... as row dot products: P[i][j] = Σ_{k >= max(i, j)} U[i][k] U[j][k].
  L.fill(0)
  for (let I0 = 0; I0 < m; I0 += NB) {
    opts.signal?.throwIfAborted()
    for (let J0 = 0; J0 <= I0; J0 += NB) kernelNT(U, I0, U, J0, L, I0, J0, NB, NB, I0, m, m)
    report(2, I0 / NB + 1)
  }
  const P = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = -L[i * m + j]
      P[i * n + j] = v
      P[j * n + i] = v
    }
  }
  return P
}

function tryNative(): ReturnType<typeof loadNative> | undefined {
  try {
    return loadNative()
  } catch {
    return undefined
  }
}
