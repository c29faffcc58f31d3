// Backend throughput: matMul GFLOP/s at 1024x1024 (plain, transposed B, transposed A; on wasm also without
// our transpose fix) and forward+backward tokens/s of a 4-layer, 256-wide GPT-2 at vocab 50257, batch 4x64,
// with the loss through the full vocabulary head and gradients to the input embeddings (the CLLM4Rec
// content-LLM step, CLLM4REC.md §4), and a scratch-backbone training step (all weights trainable).
// 'native' is wasm with the BLAS addon; numpy's sgemm (when python3 has numpy) is printed as a reference.
// 'webgpu' runs when Dawn finds a hardware adapter (a software one with CLLM4REC_WEBGPU_FALLBACK=1) and
// is named; every readback is awaited (GPU backends have no synchronous one, and a step's time includes it).
// Flags: --iters N (wasm/node; cpu runs fewer), --backends a,b.
import * as tf from '@tensorflow/tfjs'
import { execFileSync } from 'node:child_process'
import { adapterLabel, initBackend, setWasmMatMulFix, type BackendName } from '../main/engine/backend'
import { Gpt2 } from '../main/engine/gpt2/model'
import { parseArgs } from '../main/cli/args'
import { resolveDataset } from '../main/cli/train-commands'
import type { RecDataset } from '../main/data/types'
import { adam } from '../main/engine/fused-adam'
import { sparseCrossEntropySum } from '../main/engine/fused-ce'
import { cllm4recStageRates, firstUsers, type StageRates } from './cllm4rec-stages'

interface Row {
  backend: string
  plain: number
  transB: number
  transA: number
  transBRaw?: number
  transARaw?: number
  tokensPerSec: number
  tokensPerSecRaw?: number
  scratch: number
  scratchRaw?: number
  stages?: StageRates
  iters: number
}

async function timeIt(fn: () => Promise<void>, iters: number): Promise<number> {
  await fn() // warm-up (kernel setup, allocation)
  const t0 = performance.now()
  for (let i = 0; i < iters; i++) await fn()
  return (performance.now() - t0) / 1000 / iters
}

/** Reads the tensors back (the end of a step on any backend), then frees them. */
async function settle(ts: tf.Tensor[]): Promise<void> {
  for (const t of ts) await t.data()
  tf.dispose(ts)
}

async function matMulGflops(ta: boolean, tb: boolean, iters: number): Promise<number> {
  const n = 1024
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1)
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2)
  const sec = await timeIt(() => settle([tf.matMul(a, b, ta, tb)]), iters)
  tf.dispose([a, b])
  return (2 * n ** 3) / sec / 1e9
}

async function gpt2TokensPerSec(iters: number): Promise<number> {
  const [B, T, C, V] = [4, 64, 256, 50257]
  const model = Gpt2.random(
    { vocabSize: V, nPositions: 128, nEmbd: C, nLayer: 4, nHead: 8, layerNormEpsilon: 1e-5 },
    1,
  )
  const ids = tf.tensor2d(
    Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (b * 7919 + t * 104729) % V)),
    [B, T],
    'int32',
  )
  const x = tf.variable(model.embedTokens(ids))
  const targets = Int32Array.from({ length: B * T }, (_, i) => (i * 31337) % V)
  const step = () =>
    settle(
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const { hidden } = model.forwardEmbeds(x as unknown as tf.Tensor3D)
          const logits = model.logits(hidden.reshape([B * T, C]) as tf.Tensor2D)
          return sparseCrossEntropySum(logits, targets).div(B * T) as tf.Scalar
        }, [x])
        return [grads[x.name], value]
      }),
    )
  const sec = await timeIt(step, iters)
  tf.dispose([ids, x])
  model.dispose()
  return (B * T) / sec
}

/** Scratch-backbone training step at its defaults (all weights trainable, V 4000, batch 8x128). */
async function scratchTokensPerSec(iters: number): Promise<number> {
  const [B, T, C, V] = [8, 128, 128, 4000]
  const model = Gpt2.random(
    { vocabSize: V, nPositions: T, nEmbd: C, nLayer: 2, nHead: 4, layerNormEpsilon: 1e-5 },
    1,
    {
      trainable: true,
    },
  )
  const ids = tf.tensor2d(
    Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (b * 7919 + t * 104729) % V)),
    [B, T],
    'int32',
  )
  const targets = Int32Array.from({ length: B * T }, (_, i) => (i * 31337) % V)
  const opt: tf.Optimizer = adam(1e-3, 0.9, 0.999, 1e-8) // the product's optimizer (fused on native)
  const step = () =>
    settle([
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const { hidden } = model.forwardEmbeds(model.embedTokens(ids))
          const logits = model.logits(hidden.reshape([B * T, C]) as tf.Tensor2D)
          return sparseCrossEntropySum(logits, targets).div(B * T) as tf.Scalar
        }, model.trainableWeights())
        opt.applyGradients(grads)
        return value
      }),
    ])
  const sec = await timeIt(step, iters)
  ids.dispose()
  opt.dispose()
  model.dispose()
  return (B * T) / sec
}

/** One backend's matMul, GPT-2 and scratch-training rates (raw wasm too), and its stage rates. */
async function measureBackend(name: BackendName, n: number, stageData: RecDataset | undefined): Promise<Row> {
  const row: Row = {
    backend: name,
    plain: await matMulGflops(false, false, n),
    transB: await matMulGflops(false, true, n),
    transA: await matMulGflops(true, false, n),
    tokensPerSec: 0,
    scratch: 0,
    iters: n,
  }
  if (name === 'wasm') {
    setWasmMatMulFix(false)
    row.transBRaw = await matMulGflops(false, true, 1)
    row.transARaw = await matMulGflops(true, false, 1)
    row.tokensPerSecRaw = await gpt2TokensPerSec(n)
    row.scratchRaw = await scratchTokensPerSec(n)
    setWasmMatMulFix(true)
  }
  row.tokensPerSec = await gpt2TokensPerSec(n)
  row.scratch = await scratchTokensPerSec(n)
  // The cpu backend (and lavapipe) would take hours on a real split.
  if (stageData && name !== 'cpu' && name !== 'webgpu') row.stages = await cllm4recStageRates(stageData)
  return row
}

function printReport(rows: Row[], adapters: string[], stageData: RecDataset | undefined): void {
  const fmt = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(2))
  console.log('matMul 1024x1024 in GFLOP/s; GPT-2 L4 C256 V50257 batch 4x64 forward+backward in tokens/s')
  console.log(
    '| backend | plain | A·Bᵀ | Aᵀ·B | A·Bᵀ raw wasm | Aᵀ·B raw wasm | fwd+bwd tok/s | fwd+bwd raw wasm | scratch train tok/s | scratch raw wasm | iters |',
  )
  console.log('|' + ' --- |'.repeat(11))
  for (const r of rows) {
    console.log(
      `| ${r.backend} | ${fmt(r.plain)} | ${fmt(r.transB)} | ${fmt(r.transA)} | ${fmt(r.transBRaw)} | ${fmt(r.transARaw)} | ${r.tokensPerSec.toFixed(1)} | ${r.tokensPerSecRaw?.toFixed(1) ?? '-'} | ${r.scratch.toFixed(1)} | ${r.scratchRaw?.toFixed(1) ?? '-'} | ${r.iters} |`,
    )
  }
  const wasm = rows.find((r) => r.backend === 'wasm')
  const cpu = rows.find((r) => r.backend === 'cpu')
  const native = rows.find((r) => r.backend === 'native')
  if (native && wasm) {
    const x = (a: number, b: number) => `${(a / b).toFixed(2)}x`
    console.log(
      `native/wasm: matMul A·B ${x(native.plain, wasm.plain)}, A·Bᵀ ${x(native.transB, wasm.transB)}, ` +
        `Aᵀ·B ${x(native.transA, wasm.transA)}; GPT-2 fwd+bwd ${x(native.tokensPerSec, wasm.tokensPerSec)}; ` +
        `scratch training ${x(native.scratch, wasm.scratch)}`,
    )
  }
  for (const a of adapters) console.log(`webgpu ran on: ${a}`)
  if (stageData) {
    console.log(
      `CLLM4Rec stages, one epoch each, tokens/s: ${stageData.name}, random 2x64 backbone, BPE 2000`,
    )
    console.log('| backend | content | collaborative | RecLLM |')
    console.log('|' + ' --- |'.repeat(4))
    for (const r of rows.filter((r) => r.stages))
      console.log(
        `| ${r.backend} | ${r.stages!.content.toFixed(0)} | ${r.stages!.collab.toFixed(0)} | ${r.stages!.rec.toFixed(0)} |`,
      )
    if (native?.stages && wasm?.stages) {
      const x = (k: keyof StageRates) => `${(native.stages![k] / wasm.stages![k]).toFixed(2)}x`
      console.log(
        `native/wasm stages: content ${x('content')}, collaborative ${x('collab')}, RecLLM ${x('rec')}`,
      )
    }
  }
  const numpy = numpyGflops()
  console.log(
    numpy ? `numpy sgemm 1024x1024 (same machine): ${numpy}` : 'numpy: not available (python3 + numpy)',
  )
  if (wasm?.transBRaw && wasm.transARaw) {
    console.log(
      `wasm transpose fix: A·Bᵀ ${(wasm.transB / wasm.transBRaw).toFixed(1)}x, Aᵀ·B ${(wasm.transA / wasm.transARaw).toFixed(1)}x faster than raw`,
    )
    if (wasm.tokensPerSecRaw) {
      console.log(
        `wasm transpose fix on GPT-2 fwd+bwd (frozen): ${(wasm.tokensPerSec / wasm.tokensPerSecRaw).toFixed(2)}x, ` +
          `on scratch training: ${(wasm.scratch / (wasm.scratchRaw ?? NaN)).toFixed(2)}x`,
      )
    }
    console.log(
      `wasm transposed/plain after fix: A·Bᵀ ${(wasm.transB / wasm.plain).toFixed(2)}, Aᵀ·B ${(wasm.transA / wasm.plain).toFixed(2)}`,
    )
  }
  if (wasm && cpu) {
    console.log(`wasm vs cpu: scratch training ${(wasm.scratch / cpu.scratch).toFixed(1)}x`)
    console.log(
      `wasm vs cpu: matMul ${(wasm.plain / cpu.plain).toFixed(1)}x, GPT-2 fwd+bwd ${(wasm.tokensPerSec / cpu.tokensPerSec).toFixed(1)}x`,
    )
  }
}

export async function run(argv: string[]): Promise<void> {
  const f = parseArgs('bench backend', argv, {
    iters: { type: 'int', help: 'timed iterations per measurement on fast backends (default 5)' },
    backends: {
      type: 'string',
      help: 'comma-separated list (default node-gpu,webgpu,node,native,wasm,cpu: those available)',
    },
    'stages-dataset': {
      type: 'string',
      help: 'split for the CLLM4Rec stage rates (default ../shared/data/amazon-cllm4rec/beauty; "none" skips)',
    },
    'stage-users': { type: 'int', help: 'users of that split used for the stage rates (default 1500)' },
  })
  const stagesSpec = f['stages-dataset'] ?? '../shared/data/amazon-cllm4rec/beauty'
  const stageData =
    stagesSpec === 'none' ? undefined : firstUsers(await resolveDataset(stagesSpec), f['stage-users'] ?? 1500)
  const iters = f.iters ?? 5
  const wanted = (f.backends ?? 'node-gpu,webgpu,node,native,wasm,cpu').split(',') as BackendName[]
  const rows: Row[] = []
  const adapters: string[] = []
  for (const name of wanted) {
    try {
      const info = await initBackend(name)
      if (info.adapter) adapters.push(adapterLabel(info.adapter))
    } catch (e) {
      process.stderr.write(`skip ${name}: ${(e as Error).message.split('\n')[0]}\n`)
      continue
    }
    const n = name === 'cpu' ? 1 : iters // the cpu backend is ~30x slower
    process.stderr.write(`measuring ${name} (${n} iterations)...\n`)
    rows.push(await measureBackend(name, n, stageData))
  }
  printReport(rows, adapters, stageData)
}

/** numpy's float32 A·B, A·Bᵀ, Aᵀ·B GFLOP/s at 1024², or undefined when python3 or numpy is missing. */
function numpyGflops(): string | undefined {
  const py = [
    'import numpy as np, time',
    'n = 1024; r = np.random.default_rng(1)',
    'a = r.standard_normal((n, n), dtype=np.float32); b = r.standard_normal((n, n), dtype=np.float32)',
    'out = []',
    'for name, f in (("A·B", lambda: a @ b), ("A·Bᵀ", lambda: a @ b.T), ("Aᵀ·B", lambda: a.T @ b)):',
    '    f(); t = time.perf_counter()',
    '    for _ in range(5): f()',
    '    out.append("%s %.2f" % (name, 2 * n ** 3 / ((time.perf_counter() - t) / 5) / 1e9))',
    'print(", ".join(out) + " GFLOP/s (numpy " + np.__version__ + ")")',
  ].join('\n')
  try {
    return execFileSync('python3', ['-c', py], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
  } catch {
    return undefined
  }
}
