// A seeded symmetric positive-definite matrix XXᵀ + 0.5·I (n x n, row-major float64) for inverse tests.
export function randomSpd(n: number, seed: number): Float64Array {
  let s = seed
  const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647 - 0.5
  const X = Float64Array.from({ length: n * n }, rnd)
  const A = new Float64Array(n * n)
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let v = i === j ? 0.5 : 0
      for (let k = 0; k < n; k++) v += X[i * n + k] * X[j * n + k]
      A[i * n + j] = v
    }
  return A
}
