// Adam with one fused kernel per variable on the 'native' backend. tfjs's AdamOptimizer runs ~13
// full-size kernels per variable a step; for CLLM4Rec's dense embedding tables (10k x 64 and more) they
// were a third of a collaborative or RecLLM step. The native kernel does the same float32 arithmetic in
// one pass (same update, dense over every row as torch's Adam in the official run). Elsewhere, and for
// anything it does not cover, the tfjs implementation runs unchanged. Moments, β^t products, getWeights
// and setWeights are tfjs's own, so checkpoints and resumes are unaffected.
import * as tf from '@tensorflow/tfjs'
import { activeNative, heapOffset, type NativeAddon, type WasmBackendLike } from './backend'

type Moment = { originalName: string; variable: tf.Variable }

/** The AdamOptimizer fields this subclass reads (declared private in tfjs's typings). */
interface AdamInternals {
  learningRate: number
  beta1: number
  beta2: number
  epsilon: number
  accBeta1: tf.Variable
  accBeta2: tf.Variable
  accumulatedFirstMoment: Moment[]
  accumulatedSecondMoment: Moment[]
  incrementIterations(): void
}

export class FusedAdamOptimizer extends tf.AdamOptimizer {
  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    const native = activeNative()
    if (!native) return super.applyGradients(variableGradients)
    const named: { name: string; grad: tf.Tensor | undefined }[] = Array.isArray(variableGradients)
      ? variableGradients.map((v) => ({ name: v.name, grad: v.tensor }))
      : Object.keys(variableGradients).map((name) => ({ name, grad: variableGradients[name] as tf.Tensor }))
    const covered = named.every(({ name, grad }) => {
      const value = tf.engine().registeredVariables[name]
      return value && value.dtype === 'float32' && (!grad || grad.dtype === 'float32')
    })
    if (!covered) return super.applyGradients(variableGradients)
    this.applyNative(native, named)
  }

  private applyNative(native: NativeAddon, named: { name: string; grad: tf.Tensor | undefined }[]): void {
    const self = this as unknown as AdamInternals
    const wb = tf.engine().backend as unknown as WasmBackendLike
    const at = (t: tf.TensorInfo) => heapOffset(wb, t)
    const scalarAt = (t: tf.Tensor) => new Float32Array(wb.wasm.HEAPU8.buffer, at(t), 1)[0]
    // 1 − β^t in float32, as tfjs's sub(1, accBeta) computes it.
    const d1 = Math.fround(1 - scalarAt(self.accBeta1))
    const d2 = Math.fround(1 - scalarAt(self.accBeta2))
    named.forEach(({ name, grad }, i) => {
      const value = tf.engine().registeredVariables[name]
      self.accumulatedFirstMoment[i] ??= {
        originalName: `${name}/m`,
        variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
      }
      self.accumulatedSecondMoment[i] ??= {
        originalName: `${name}/v`,
        variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
      }
      if (!grad) return
      if (grad.size !== value.size)
        throw new Error(`adam: gradient of ${name} has ${grad.size} values, not ${value.size}`)
      const m = self.accumulatedFirstMoment[i].variable
      const v = self.accumulatedSecondMoment[i].variable
      // Outputs first: allocating can grow the heap, which replaces the buffer behind older views.
      const outs = [value, m, v].map((t) => wb.makeOutput(t.shape, 'float32'))
      native.adam(
        wb.wasm.HEAPU8,
        at(value),
        at(m),
        at(v),
        at(grad),
        value.size,
        at(outs[0]),
        at(outs[1]),
        at(outs[2]),
        self.learningRate,
        self.beta1,
        self.beta2,
        self.epsilon,
        d1,
        d2,
      )
      ;[value, m, v].forEach((target, k) => {
        const t = tf.engine().makeTensorFromTensorInfo(outs[k])
        target.assign(t)
        t.dispose()
      })
    })
    tf.tidy(() => {
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1))
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2))
    })
    self.incrementIterations()
  }
}

/** Adam (β1, β2, ε as given) that uses the fused native step where the native backend is active. */
export function adam(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8): tf.AdamOptimizer {
  return new FusedAdamOptimizer(learningRate, beta1, beta2, epsilon)
}
