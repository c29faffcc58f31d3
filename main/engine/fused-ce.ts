// Sparse softmax cross-entropy over [n, V] logits, fused: one pass per row gives the loss and, on request,
// (softmax − onehot(y))·dy, without the [n, V] softmax and one-hot temporaries tfjs would make. Runs in
// the native addon when the 'native' backend is active, else in plain tfjs with the same results (to
// float rounding). Not differentiable itself: meant for the forward and gradFunc of a tf.customGrad
// (the content head's chunked CE, CLLM4REC.md §4).
import * as tf from '@tensorflow/tfjs'
import { activeNative, type WasmBackendLike } from './backend'

function checkLabels(logits: tf.Tensor2D, labels: Int32Array, fn: string): void {
  const [n, V] = logits.shape
  if (labels.length !== n) throw new Error(`${fn}: ${labels.length} labels for ${n} rows`)
  for (let i = 0; i < n; i++) {
    if (!(labels[i] >= 0 && labels[i] < V)) throw new Error(`${fn}: label ${labels[i]} is outside [0, ${V})`)
  }
  if (logits.dtype !== 'float32') throw new Error(`${fn}: logits must be float32, got ${logits.dtype}`)
}

/** loss[i] = logsumexp(logits[i]) − logits[i][labels[i]], shape [n]. */
export function sparseSoftmaxCrossEntropy(logits: tf.Tensor2D, labels: Int32Array): tf.Tensor1D {
  checkLabels(logits, labels, 'sparseSoftmaxCrossEntropy')
  const native = runNative(logits, labels, undefined, false)
  if (native) return native.loss
  return tf.tidy(() => {
    const [n, V] = logits.shape
    const flat = Int32Array.from(labels, (y, i) => i * V + y)
    const picked = tf.gather(logits.reshape([n * V]), tf.tensor1d(flat, 'int32'))
    return tf.logSumExp(logits, 1).sub(picked) as tf.Tensor1D
  })
}

/** d loss / d logits scaled per row: (softmax(logits) − onehot(labels))·dy, shape [n, V]; dy [n] or scalar. */
export function sparseSoftmaxCrossEntropyGrad(
  logits: tf.Tensor2D,
  labels: Int32Array,
  dy: tf.Tensor,
): tf.Tensor2D {
  checkLabels(logits, labels, 'sparseSoftmaxCrossEntropyGrad')
  const [n, V] = logits.shape
  if (dy.size !== 1 && dy.size !== n)
    throw new Error(`sparseSoftmaxCrossEntropyGrad: dy has ${dy.size} values`)
  const native = runNative(logits, labels, dy, true)
  if (native) {
    native.loss.dispose()
    return native.grad as tf.Tensor2D
  }
  return tf.tidy(() => {
    // The one-hot is built here: wasm's OneHot kernel gave all-zero rows for these arguments.
    const hot = new Float32Array(n * V)
    labels.forEach((y, i) => (hot[i * V + y] = 1))
    const g = tf.softmax(logits).sub(tf.tensor2d(hot, [n, V]))
    return g.mul(dy.size === 1 ? dy.reshape([]) : dy.reshape([n, 1])) as tf.Tensor2D
  })
}

function runNative(
  logits: tf.Tensor2D,
  labels: Int32Array,
  dy: tf.Tensor | undefined,
  withGrad: boolean,
): { loss: tf.Tensor1D; grad?: tf.Tensor2D } | undefined {
  const native = activeNative()
  if (!native) return undefined
  const [n, V] = logits.shape
  const engine = tf.engine()
  const wb = engine.backend as unknown as WasmBackendLike
  const y = tf.tensor1d(labels, 'int32')
  const dyRow = dy ? tf.tidy(() => dy.toFloat().reshape([-1]).broadcastTo([n])) : undefined
  // Outputs first: allocating can grow the heap, which replaces the buffer behind older views.
  const loss = wb.makeOutput([n], 'float32')
  const grad = withGrad ? wb.makeOutput([n, V], 'float32') : undefined
  const at = (t: tf.TensorInfo) => wb.dataIdMap.get(t.dataId).memoryOffset
  try {
    native.softmaxCe(
      wb.wasm.HEAPU8,
      at(logits),
      at(y),
      n,
      V,
      at(loss),
      grad ? at(grad) : -1,
      dyRow ? at(dyRow) : -1,
    )
  } finally {
    y.dispose()
    dyRow?.dispose()
  }
  return {
    loss: engine.makeTensorFromTensorInfo(loss) as tf.Tensor1D,
    grad: grad ? (engine.makeTensorFromTensorInfo(grad) as tf.Tensor2D) : undefined,
  }
}

/**
 * Σ_i CE(logits[i], labels[i]) as a differentiable op: the forward and the gradient wrt logits are the
 * fused kernels above (no log-softmax, one-hot or [n, V] gather on the tape); the matMul that made the
 * logits keeps its own gradient.
 */
export function sparseCrossEntropySum(logits: tf.Tensor2D, labels: Int32Array): tf.Scalar {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const z = args[0] as tf.Tensor2D
    ;(args[1] as tf.GradSaveFunc)([z])
    return {
      value: tf.tidy(() => sparseSoftmaxCrossEntropy(z, labels).sum() as tf.Scalar),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        sparseSoftmaxCrossEntropyGrad(saved[0] as tf.Tensor2D, labels, dy),
    }
  })
  return op(logits) as tf.Scalar
}

/**
 * Multinomial log-likelihood of multi-hot targets, summed over rows, as a differentiable op:
 * Σ_b Σ_{j∈T_b} (lse(z_b) − z_bj) = Σ_b |T_b|·(lse(z_b) − z_b,f) + Σ_b Σ_{j∈T_b} (z_b,f − z_bj) for any
 * f = first target, so the fused single-label kernels above do the [B, J] passes; the gradient is
 * (|T_b|·softmax(z_b) − y_b)·dy. One row per prompt, where a single-label CE needs one per target
 * (the RecLLM's all-items target has about seven a Beauty user, up to a hundred).
 */
export function multiHotCrossEntropySum(
  logits: tf.Tensor2D,
  targets: readonly (readonly number[])[],
): tf.Scalar {
  const [B, J] = logits.shape
  if (targets.length !== B)
    throw new Error(`multiHotCrossEntropySum: ${targets.length} target lists for ${B} rows`)
  const counts = new Float32Array(B)
  const first = new Int32Array(B)
  // y_b − |T_b|·onehot(f_b): what the single-label gradient misses; and the flat indices of every target.
  const rest = new Float32Array(B * J)
  const flat: number[] = []
  targets.forEach((ts, b) => {
    counts[b] = ts.length
    first[b] = ts.length ? ts[0] : 0
    rest[b * J + first[b]] -= ts.length
    for (const j of ts) {
      if (!(Number.isInteger(j) && j >= 0 && j < J))
        throw new Error(`multiHotCrossEntropySum: target ${j} is outside [0, ${J})`)
      flat.push(b * J + j)
      rest[b * J + j] += 1
    }
  })
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const z = args[0] as tf.Tensor2D
    ;(args[1] as tf.GradSaveFunc)([z])
    return {
      value: tf.tidy(() => {
        const zFlat = z.reshape([B * J])
        const firstIdx = Int32Array.from(first, (f, b) => b * J + f)
        const lse = sparseSoftmaxCrossEntropy(z, first).add(tf.gather(zFlat, tf.tensor1d(firstIdx, 'int32')))
        const picked = tf.gather(zFlat, tf.tensor1d(flat, 'int32')).sum()
        return lse.mul(tf.tensor1d(counts)).sum().sub(picked) as tf.Scalar
      }),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const d = dy.reshape([])
          const g = sparseSoftmaxCrossEntropyGrad(saved[0] as tf.Tensor2D, first, tf.tensor1d(counts).mul(d))
          return g.sub(tf.tensor2d(rest, [B, J]).mul(d)) as tf.Tensor2D
        }),
    }
  })
  return op(logits) as tf.Scalar
}
