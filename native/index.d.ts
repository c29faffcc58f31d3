// All offsets are byte offsets into `heap` (the wasm Memory's buffer as a Uint8Array, or any buffer).
export interface NativeInfo {
  library: string
  version: string
  threads: number
}
export function info(): NativeInfo
export function setThreads(n: number): number
/** C[b] = op(A[b]) · op(B[b]) for b < batch, row-major, in place; a stride of 0 broadcasts. */
export function sgemm(
  heap: Uint8Array,
  a: number,
  b: number,
  c: number,
  batch: number,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  strideA: number,
  strideB: number,
): void
/**
 * Row-wise sparse softmax cross-entropy over logits [n, v] with int32 labels [n]: writes loss [n]; where
 * dlogits >= 0 also writes (softmax - onehot) · dy[row] (dy < 0 means 1). Returns the number of labels
 * out of [0, v) (their loss and gradient are 0).
 */
export function softmaxCe(
  heap: Uint8Array,
  logits: number,
  labels: number,
  n: number,
  v: number,
  loss: number,
  dlogits: number,
  dy: number,
): number
/** Overwrites the symmetric positive-definite a (n x n, row-major float64) with its inverse. */
export function spdInverse(a: Float64Array, n: number): void
/**
 * One Adam step over n floats (tfjs AdamOptimizer's float32 arithmetic, fused): writes w', m', v' to
 * outW/outM/outV (which may alias w/m/v). d1 = 1 − β1^t and d2 = 1 − β2^t are the bias corrections.
 */
export function adam(
  heap: Uint8Array,
  w: number,
  m: number,
  v: number,
  g: number,
  n: number,
  outW: number,
  outM: number,
  outV: number,
  lr: number,
  beta1: number,
  beta2: number,
  epsilon: number,
  d1: number,
  d2: number,
): void
/** out[c] = Σ_r x[r, c] for x [rows, cols] (float32, summed in row order). */
export function sumRows(heap: Uint8Array, x: number, rows: number, cols: number, out: number): void
/** out[i] = tanh(x[i]) for n floats (relative error ~2e-7). */
export function tanh(heap: Uint8Array, x: number, n: number, out: number): void
/** Per row of c: y = (x − μ)/sqrt(var + eps)·g + b; writes μ [rows] and rstd [rows] for the backward. */
export function layerNorm(
  heap: Uint8Array,
  x: number,
  g: number,
  b: number,
  rows: number,
  c: number,
  y: number,
  mean: number,
  rstd: number,
  eps: number,
): void
/** Gradients of layerNorm: dx [rows, c], dg and db [c] (summed over rows). */
export function layerNormGrad(
  heap: Uint8Array,
  dy: number,
  x: number,
  g: number,
  mean: number,
  rstd: number,
  rows: number,
  c: number,
  dx: number,
  dg: number,
  db: number,
): void
/** GPT-2's tanh GELU of n floats into y; with dy >= 0, its gradient dy·gelu'(x) into dx instead. */
export function gelu(heap: Uint8Array, x: number, n: number, y: number, dy: number, dx: number): void
