// Child process of webgpu.test.ts: runs one scenario on the real Dawn backend (lavapipe in CI) and prints
// one JSON line. A child, because the Vulkan driver is chosen by environment variables read at start.
// dataSync/arraySync throw on webgpu here (also for values tfjs has cached), so every scenario proves
// the engine path it drives reads back asynchronously.
import * as tf from '@tensorflow/tfjs'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { RunDetail } from '../../../preload/api'
import { createApiApp } from '../../../main/api/app'
import { NO_DIALOGS } from '../../../main/api/context'
import { generateDemoDataset } from '../../../main/data/demo'
import {
  backendLabel,
  checkGpu,
  releaseGpuPool,
  setShapeBucket,
  gpuPoolBytes,
  initBackend,
  shutdownBackend,
} from '../../../main/engine/backend'
import { MultVae } from '../../../main/engine/baselines/mult-vae'
import { prepareBackbone } from '../../../main/engine/cllm4rec/backbone'
import { resolveConfig } from '../../../main/engine/cllm4rec/config'
import { trainCllm4rec } from '../../../main/engine/cllm4rec/trainer'
import { sparseSoftmaxCrossEntropy, sparseSoftmaxCrossEntropyGrad } from '../../../main/engine/fused-ce'
import { generateGreedy } from '../../../main/engine/gpt2/generate'
import { Gpt2 } from '../../../main/engine/gpt2/model'
import * as store from '../../../main/store'
import { createRunManager, type RunManager } from '../../../main/worker/run-manager'

function forbidSyncReadback(): void {
  const proto = tf.Tensor.prototype as unknown as Record<string, (...a: unknown[]) => unknown>
  for (const name of ['dataSync', 'arraySync', 'bufferSync']) {
    const original = proto[name]
    proto[name] = function (this: tf.Tensor, ...args: unknown[]) {
      if (tf.getBackend() === 'webgpu') throw new Error(`synchronous ${name}() on webgpu`)
      return original.apply(this, args)
    }
  }
}

const data = generateDemoDataset({ seed: 1, users: 24, items: 18, perUser: 5 })
const config = resolveConfig('paper', {
  warmupEpochs: 1,
  rounds: 1,
  finetuneEpochs: 1,
  batchSize: 8,
  contentMainCap: 12,
  scratch: { epochs: 1, vocabSize: 300, context: 32, width: 16, heads: 2, layers: 1 },
})

/** Scratch backbone trained once on cpu, so both backends start from the same weights. */
async function backboneDir(tmp: string): Promise<string> {
  const dir = path.join(tmp, 'backbone')
  await initBackend('cpu')
  const b = await prepareBackbone(data, config, { dir })
  b.model.dispose()
  return dir
}

async function train(backend: 'cpu' | 'webgpu', dir: string) {
  await initBackend(backend)
  // webgpu's length bucket on cpu too: dropout masks (shaped [B, T, C]) are then the same draws.
  setShapeBucket(16)
  const r = await trainCllm4rec(data, config, { backboneDir: dir })
  const review = await r.session.generateReview(0, 1, 4)
  const recs = await r.session.recommend(0, 5)
  r.session.dispose()
  return {
    history: r.history.map((h) => ({ stage: h.stage, kind: h.kind, loss: h.loss })),
    test: r.test,
    review: review.ids,
    recs: recs.map((x) => x.item),
  }
}

/** Forward and gradient of the ops the engine uses: a GPT-2 block, the LM head and the fused CE. */
async function ops(backend: 'cpu' | 'webgpu') {
  await initBackend(backend)
  const model = Gpt2.random(
    { vocabSize: 40, nPositions: 16, nEmbd: 16, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 },
    7,
    { trainable: true },
  )
  const ids = tf.tensor2d(
    [
      [1, 5, 9, 3, 7, 2],
      [4, 4, 8, 0, 1, 39],
    ],
    [2, 6],
    'int32',
  )
  const labels = Int32Array.from([5, 9, 3, 7, 2, 0, 4, 8, 0, 1, 39, 3])
  const { value, grads } = tf.variableGrads(() => {
    const { hidden } = model.forwardEmbeds(model.embedTokens(ids))
    const logits = model.logits(hidden.reshape([12, 16]) as tf.Tensor2D)
    const ce = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const x = args[0] as tf.Tensor2D
      ;(args[1] as tf.GradSaveFunc)([x])
      return {
        value: sparseSoftmaxCrossEntropy(x, labels).mean(),
        gradFunc: (dy: tf.Tensor, [s]: tf.Tensor[]) =>
          sparseSoftmaxCrossEntropyGrad(s as tf.Tensor2D, labels, dy.div(12)),
      }
    })
    return (ce(logits) as tf.Scalar).add(tf.softmax(logits).square().mean().mul(0.1)) as tf.Scalar
  }, model.trainableWeights())
  // Variable names are unique per process, so gradients are listed in the weights' order.
  const grad: number[][] = []
  for (const w of model.trainableWeights()) grad.push(Array.from(await grads[w.name].data()))
  const loss = (await value.data())[0]
  tf.dispose([value, ids, ...Object.values(grads)])
  const gen = await generateGreedy(model, [1, 2, 3], { maxNewTokens: 4 })
  model.dispose()
  return { loss, grad, gen }
}

/** Mult-VAE (sparse encoder with its written-out gradient, dropout, Adam) for a few epochs. */
async function multVae(backend: 'cpu' | 'webgpu') {
  await initBackend(backend)
  const losses: number[] = []
  const r = await MultVae.fit(data, {
    epochs: 4,
    batchSize: 10,
    hidden: 12,
    latent: 4,
    // Pure likelihood at a high lr, so the loss must fall within the four epochs.
    betaMax: 0,
    lr: 1e-2,
    seed: 2,
    onEpoch: (_, loss) => losses.push(loss),
  })
  const scores = Array.from(await r.model.scoreUsers([0, 3, 7]))
  r.model.dispose()
  return { losses, scores }
}

/** Tensors and GPU pool after warm-up vs after many more steps (200 steps in all). */
async function growth() {
  await initBackend('webgpu')
  const model = Gpt2.random(
    { vocabSize: 40, nPositions: 16, nEmbd: 16, nLayer: 1, nHead: 2, layerNormEpsilon: 1e-5 },
    3,
    { trainable: true },
  )
  const opt = tf.train.adam(1e-3)
  const step = async (i: number, distinct = false) => {
    // Two lengths, as length buckets give; or a new length every step (what buckets prevent).
    const T = distinct ? 2 + i : i % 2 === 0 ? 8 : 12
    const ids = tf.tensor2d(
      Array.from({ length: 2 * T }, (_, k) => (k * 7 + i) % 40),
      [2, T],
      'int32',
    )
    const cost = opt.minimize(
      () => {
        const { hidden } = model.forwardEmbeds(model.embedTokens(ids))
        return model
          .logits(hidden.reshape([2 * T, 16]) as tf.Tensor2D)
          .logSoftmax()
          .mean()
          .neg() as tf.Scalar
      },
      true,
      model.trainableWeights(),
    )
    await cost!.data()
    tf.dispose([cost!, ids])
  }
  for (let i = 0; i < 20; i++) await step(i)
  const before = { tensors: tf.memory().numTensors, pool: gpuPoolBytes() }
  for (let i = 20; i < 200; i++) await step(i)
  const after = { tensors: tf.memory().numTensors, pool: gpuPoolBytes() }
  for (let i = 0; i < 14; i++) await step(i, true)
  const unbucketed = gpuPoolBytes()
  const freed = releaseGpuPool()
  const released = gpuPoolBytes()
  opt.dispose()
  model.dispose()
  return { before, after, unbucketed, freed, released }
}

/** A validation error (here: an invalid buffer usage) must fail the next training run, not pass silently. */
async function uncaptured(dir: string) {
  await initBackend('webgpu')
  const device = (tf.backend() as unknown as { device: { createBuffer(d: object): unknown } }).device
  const G = globalThis as unknown as { GPUBufferUsage: { MAP_READ: number; STORAGE: number } }
  device.createBuffer({ size: 16, usage: G.GPUBufferUsage.MAP_READ | G.GPUBufferUsage.STORAGE })
  try {
    await trainCllm4rec(data, config, { backboneDir: dir })
    return { error: null }
  } catch (e) {
    return { error: (e as Error).message }
  }
}

/**
 * A tensor one KiB over the binding limit: Dawn computes nothing, and only checkGpu tells. A run whose
 * attention scores would not fit is refused before its first step, naming the settings to lower.
 */
async function binding(dir: string) {
  await initBackend('webgpu')
  let refused: string | null = null
  try {
    await trainCllm4rec(data, { ...config, batchSize: 20_000 }, { backboneDir: dir })
  } catch (e) {
    refused = (e as Error).message
  }
  const info = await initBackend('webgpu')
  const n = info.adapter!.maxStorageBufferBindingSize / 4 + 256
  const x = tf.fill([n], 1).add(1)
  const s = x.sum()
  const sum = (await s.data())[0]
  tf.dispose([x, s])
  try {
    checkGpu()
    return { sum, expected: 2 * n, error: null, refused }
  } catch (e) {
    return { sum, expected: 2 * n, error: (e as Error).message, refused }
  }
}

async function until(cond: () => boolean, timeoutMs = 200_000): Promise<void> {
  const t0 = Date.now()
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 20))
  }
}

/**
 * The product path on webgpu: API -> run queue -> training worker thread -> SQLite, an uninterrupted run,
 * then a run cancelled after two checkpoints and resumed; inspection in the engine worker; appInfo's
 * probe. Every thread stops cooperatively (a crash here would abort this process).
 */
async function workers(tmp: string) {
  process.env.CLLM4REC_BACKEND = 'webgpu'
  let runs!: RunManager
  const app = createApiApp({
    mode: 'browser',
    version: '0.0.0-test',
    dbPath: path.join(tmp, 'wb.db'),
    dialogs: NO_DIALOGS,
    createRuns: (p, bus) => (runs = createRunManager(p, bus)),
  })
  try {
    const datasetId = (await app.handlers.createDemoDataset({ seed: 4, users: 30, items: 24 })).id
    const preset = (await app.handlers.listPromptPresets())[0]
    const input = {
      datasetId,
      preset: 'paper',
      overrides: {
        warmupEpochs: 1,
        rounds: 1,
        finetuneEpochs: 2,
        batchSize: 16,
        maxLength: 48,
        'scratch.layers': 1,
        'scratch.width': 16,
        'scratch.heads': 1,
        'scratch.context': 48,
        'scratch.epochs': 1,
        'scratch.vocabSize': 300,
      },
      templates: preset.templates,
      backboneId: 'scratch',
      seed: 3,
    }
    const brief = (d: RunDetail) => ({ status: d.status, error: d.error, backend: d.backend, test: d.test })
    const ref = (await app.handlers.startRun(input)).runId
    await runs.idle()
    const reference = brief(await app.handlers.getRun(ref))
    const { runId } = await app.handlers.startRun(input)
    await until(() => store.listCheckpoints(app.services.db, runId).length >= 2)
    await app.handlers.cancelRun(runId)
    const cancelled = (await app.handlers.getRun(runId)).status
    await app.handlers.resumeRun(runId)
    await until(() => store.getRun(app.services.db, runId).status !== 'queued' && runs.activeRun() !== runId)
    await runs.idle()
    const resumed = brief(await app.handlers.getRun(runId))
    const inspected = (await app.handlers.inspectUser(ref, 2, 5)).recCollaborative.length
    const appInfo = (await app.handlers.appInfo()).backend
    return { reference, cancelled, resumed, inspected, appInfo }
  } finally {
    await app.close()
  }
}

async function main(): Promise<void> {
  forbidSyncReadback()
  const scenario = process.argv[2]
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cllm4rec-webgpu-'))
  try {
    const info = await initBackend('webgpu')
    const label = backendLabel(info)
    let result: unknown
    if (scenario === 'train') {
      const dir = await backboneDir(tmp)
      result = { cpu: await train('cpu', dir), webgpu: await train('webgpu', dir) }
    } else if (scenario === 'ops') result = { cpu: await ops('cpu'), webgpu: await ops('webgpu') }
    else if (scenario === 'multvae') result = { cpu: await multVae('cpu'), webgpu: await multVae('webgpu') }
    else if (scenario === 'growth') result = await growth()
    else if (scenario === 'binding') result = await binding(await backboneDir(tmp))
    else if (scenario === 'workers') result = await workers(tmp)
    else if (scenario === 'uncaptured') result = await uncaptured(await backboneDir(tmp))
    else throw new Error(`unknown scenario ${scenario}`)
    await shutdownBackend()
    process.stdout.write(JSON.stringify({ label, adapter: info.adapter, result }) + '\n')
  } catch (e) {
    process.stdout.write(JSON.stringify({ failure: (e as Error).stack ?? String(e) }) + '\n')
    process.exitCode = 1
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}

void main()
