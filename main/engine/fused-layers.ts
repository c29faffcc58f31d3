// Layer norm and GPT-2's tanh GELU as single native kernels (forward and backward) on the 'native'
// backend. In tfjs each is ~8-9 forward and ~20 backward kernels; with a 2-layer, 64-wide backbone the
// per-kernel overhead, not arithmetic, was most of a CLLM4Rec step. Callers fall back to their tfjs
// formula when these return undefined (other backends), so results agree to float rounding.
import * as tf from '@tensorflow/tfjs'
import { activeNative, heapOffset, type NativeAddon, type WasmBackendLike } from './backend'

function heap(): { wb: WasmBackendLike; at: (t: tf.TensorInfo) => number } {
  const wb = tf.engine().backend as unknown as WasmBackendLike
  return { wb, at: (t) => heapOffset(wb, t) }
}

const asTensor = (t: tf.TensorInfo) => tf.engine().makeTensorFromTensorInfo(t)

/** (x − μ)/sqrt(var + eps)·g + b over the last axis, differentiable in x, g and b; native only. */
export function nativeLayerNorm(
  x: tf.Tensor,
  g: tf.Tensor,
  b: tf.Tensor,
  eps: number,
): tf.Tensor | undefined {
  const native = activeNative()
  if (!native || x.dtype !== 'float32' || g.dtype !== 'float32' || b.dtype !== 'float32') return undefined
  const c = x.shape[x.shape.length - 1]
  if (g.size !== c || b.size !== c) return undefined
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, gi, bi] = args as tf.Tensor[]
    const save = args[3] as tf.GradSaveFunc
    const rows = xi.size / c
    const { wb, at } = heap()
    const y = wb.makeOutput(xi.shape, 'float32')
    const mean = wb.makeOutput([rows], 'float32')
    const rstd = wb.makeOutput([rows], 'float32')
    native.layerNorm(wb.wasm.HEAPU8, at(xi), at(gi), at(bi), rows, c, at(y), at(mean), at(rstd), eps)
    const [meanT, rstdT] = [asTensor(mean), asTensor(rstd)]
    save([xi, gi, meanT, rstdT])
    return {
      value: asTensor(y),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => layerNormGrad(native, dy, saved, rows, c),
    }
  })
  return op(x, g, b)
}

function layerNormGrad(native: NativeAddon, dy: tf.Tensor, saved: tf.Tensor[], rows: number, c: number) {
  const [x, g, mean, rstd] = saved
  const { wb, at } = heap()
  const dx = wb.makeOutput(x.shape, 'float32')
  const dg = wb.makeOutput([c], 'float32')
  const db = wb.makeOutput([c], 'float32')
  native.layerNormGrad(
    wb.wasm.HEAPU8,
    at(dy),
    at(x),
    at(g),
    at(mean),
    at(rstd),
    rows,
    c,
    at(dx),
    at(dg),
    at(db),
  )
  return [asTensor(dx), asTensor(dg).reshape(g.shape), asTensor(db).reshape(g.shape)]
}

/** GPT-2's gelu_new, ½x(1 + tanh(√(2/π)(x + 0.044715x³))), differentiable; native only. */
export function nativeGelu(x: tf.Tensor): tf.Tensor | undefined {
  const native = activeNative()
  if (!native || x.dtype !== 'float32') return undefined
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xi = args[0] as tf.Tensor
    ;(args[1] as tf.GradSaveFunc)([xi])
    const { wb, at } = heap()
    const y = wb.makeOutput(xi.shape, 'float32')
    native.gelu(wb.wasm.HEAPU8, at(xi), xi.size, at(y), -1, -1)
    return {
      value: asTensor(y),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const h = heap()
        const dx = h.wb.makeOutput(saved[0].shape, 'float32')
        native.gelu(h.wb.wasm.HEAPU8, h.at(saved[0]), saved[0].size, -1, h.at(dy), h.at(dx))
        return asTensor(dx)
      },
    }
  })
  return op(x)
}
