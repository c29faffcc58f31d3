// Mult-VAE's encoder layer at the CLLM4Rec Beauty split's shapes (batches of 500 users, J = 6,086,
// 600 hidden): x·w1 and its gradient for w1 with the dense multi-hot input against the sparse one the
// baseline uses, then seconds per Mult-VAE epoch (training and the validation ranking).
// Flags: --data DIR (default ../shared/data/amazon-cllm4rec/beauty), --epochs N (default 2), --backend
// (default native).
import * as tf from '@tensorflow/tfjs'
import { parseArgs } from '../main/cli/args'
import { MultVae, sparseInput, sparseMatMul } from '../main/engine/baselines/mult-vae'
import { Rng } from '../main/engine/train/rng'
import { SPLIT_FLAGS, openSplit } from './split'

async function msPerStep(step: () => tf.Tensor, reps: number): Promise<number> {
  await tf.tidy(step).data() // warm-up: kernels compiled, heap grown
  const t0 = performance.now()
  for (let i = 0; i < reps; i++) {
    const out = tf.tidy(step)
    await out.data()
    out.dispose()
  }
  return (performance.now() - t0) / reps
}

export async function run(argv: string[]): Promise<void> {
  const f = parseArgs('bench mult-vae', argv, {
    ...SPLIT_FLAGS,
    epochs: { type: 'int', help: 'Mult-VAE epochs timed (default 2)' },
  })
  const { info, data } = await openSplit(f)
  const J = data.itemIds.length
  const users = new Rng(1).shuffle(data.train.map((_, u) => u).filter((u) => data.train[u].length > 0))
  const batch = users.slice(0, 500)
  const w = tf.variable(tf.randomNormal([J, 600], 0, 0.01, 'float32', 1)) as tf.Variable<tf.Rank.R2>
  const g = tf.randomNormal([batch.length, 600], 0, 1, 'float32', 2)
  const dense = (): tf.Tensor2D => {
    const x = new Float32Array(batch.length * J)
    batch.forEach((u, r) => {
      for (const j of data.train[u]) x[r * J + j] = 1 / Math.sqrt(data.train[u].length)
    })
    return tf.tensor2d(x, [batch.length, J])
  }
  // What one training step asks of the layer: the forward value and the gradient for w1.
  const layer = (fwd: (v: tf.Tensor2D) => tf.Tensor) => () =>
    tf.grad((v: tf.Tensor) =>
      fwd(v as tf.Tensor2D)
        .mul(g)
        .sum(),
    )(w)
  const denseMs = await msPerStep(
    layer((v) => tf.matMul(dense(), v)),
    10,
  )
  const sparseMs = await msPerStep(
    layer((v) => sparseMatMul(sparseInput(data, batch), v)),
    10,
  )
  process.stdout.write(
    `backend ${info.name}; ${data.name}: ${data.userIds.length} users, ${J} items\n` +
      `encoder layer (x·w1 + its gradient, 500 users): dense ${denseMs.toFixed(1)} ms, sparse ` +
      `${sparseMs.toFixed(1)} ms (sparse / dense ${(sparseMs / denseMs).toFixed(2)})\n`,
  )
  const times: number[] = []
  let t0 = performance.now()
  const r = await MultVae.fit(data, {
    epochs: f.epochs ?? 2,
    onEpoch: () => {
      times.push((performance.now() - t0) / 1000)
      t0 = performance.now()
    },
  })
  r.model.dispose()
  tf.dispose([w, g])
  process.stdout.write(
    `Mult-VAE seconds per epoch (training + validation ranking): ${times.map((s) => s.toFixed(1)).join(', ')}\n`,
  )
}
