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
