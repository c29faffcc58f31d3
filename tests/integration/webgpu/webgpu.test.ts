// The webgpu backend on real Dawn: lavapipe (Mesa's software Vulkan, unpacked by scripts/lavapipe.sh, as
// .ci/run does) or the machine's own GPU. Nothing is skipped: without an adapter every test fails with
// the reason. Each scenario runs in a child process (child.ts) whose environment selects the driver.
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const root = path.resolve(__dirname, '../../..')
const lavapipe = process.env.CLLM4REC_LAVAPIPE_DIR ?? path.join(root, '.cache', 'lavapipe')

function childEnv(): NodeJS.ProcessEnv {
  // The binding cap keeps the over-the-limit scenario small on GPUs whose limit is gigabytes.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CLLM4REC_WEBGPU_FALLBACK: '1',
    CLLM4REC_WEBGPU_BINDING_LIMIT: String(128 << 20),
  }
  delete env.CLLM4REC_BACKEND
  const icd = path.join(lavapipe, 'usr/share/vulkan/icd.d/lvp_icd.json')
  if (fs.existsSync(icd)) {
    const loader = fs
      .readdirSync(path.join(lavapipe, 'usr/lib'), { recursive: true, encoding: 'utf8' })
      .find((f) => path.basename(f) === 'libvulkan.so.1')
    env.VK_ICD_FILENAMES = icd
    env.VK_DRIVER_FILES = icd
    if (loader) {
      const dir = path.dirname(path.join(lavapipe, 'usr/lib', loader))
      env.LD_LIBRARY_PATH = [dir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':')
    }
  }
  return env
}

interface ChildOut<R> {
  label: string
  adapter: { vendor: string; description: string; fallback: boolean; maxStorageBufferBindingSize: number }
  result: R
}

/** Runs one scenario; rejects with the child's own failure (e.g. why no adapter could be created). */
function scenario<R>(name: string): Promise<ChildOut<R>> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, 'child.ts'), name],
      { cwd: root, env: childEnv(), maxBuffer: 64 << 20, timeout: 280_000 },
      (err, stdout, stderr) => {
        const last = stdout.trim().split('\n').pop() ?? ''
        let parsed: (ChildOut<R> & { failure?: string }) | undefined
        try {
          parsed = JSON.parse(last)
        } catch {
          parsed = undefined
        }
        if (parsed?.failure || !parsed || err) {
          const why = parsed?.failure ?? `${err?.message ?? 'no result'}\n${stderr.slice(-2000)}`
          reject(
            new Error(
              `webgpu scenario '${name}' failed (lavapipe folder: ${lavapipe}; scripts/lavapipe.sh fills it):\n${why}`,
            ),
          )
        } else resolve(parsed)
      },
    )
  })
}

function maxAbsDiff(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length)
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0)
}

interface TrainOut {
  history: { stage: string; kind: string; loss: number }[]
  test: { recall20: number; ndcg100: number }
  review: number[]
  recs: number[]
}

describe('webgpu backend (Dawn)', () => {
  it('trains CLLM4Rec (content, collaborative and RecLLM epochs) with the cpu losses within 1e-4', async () => {
    const out = await scenario<{ cpu: TrainOut; webgpu: TrainOut }>('train')
    expect(out.label).toMatch(/^webgpu \(.+\)$/)
    const { cpu, webgpu } = out.result
    expect(webgpu.history.map((h) => `${h.stage}:${h.kind}`)).toEqual(
      cpu.history.map((h) => `${h.stage}:${h.kind}`),
    )
    expect(new Set(cpu.history.map((h) => h.kind))).toEqual(new Set(['content', 'collab', 'rec']))
    expect(
      maxAbsDiff(
        webgpu.history.map((h) => h.loss),
        cpu.history.map((h) => h.loss),
      ),
    ).toBeLessThan(1e-4)
    expect(webgpu.test.recall20).toBeCloseTo(cpu.test.recall20, 4)
    expect(webgpu.test.ndcg100).toBeCloseTo(cpu.test.ndcg100, 4)
    expect(webgpu.recs).toEqual(cpu.recs)
    expect(webgpu.review).toEqual(cpu.review)
  }, 300_000)

  it('matches cpu on a GPT-2 forward + gradient through the LM head and the fused CE; generation too', async () => {
    type Ops = { loss: number; grad: number[][]; gen: number[] }
    const { result } = await scenario<{ cpu: Ops; webgpu: Ops }>('ops')
    expect(Math.abs(result.webgpu.loss - result.cpu.loss)).toBeLessThan(1e-5)
    expect(result.webgpu.grad.length).toBe(result.cpu.grad.length)
    result.cpu.grad.forEach((g, k) => expect(maxAbsDiff(result.webgpu.grad[k], g)).toBeLessThan(1e-5))
    expect(result.webgpu.gen).toEqual(result.cpu.gen)
  }, 300_000)

  it('fits Mult-VAE (sparse encoder, its written-out gradient) with the cpu losses and scores', async () => {
    type Out = { losses: number[]; scores: number[] }
    const { cpu, webgpu } = (await scenario<{ cpu: Out; webgpu: Out }>('multvae')).result
    expect(cpu.losses).toHaveLength(4)
    expect(cpu.losses[3]).toBeLessThan(cpu.losses[0])
    expect(maxAbsDiff(webgpu.losses, cpu.losses)).toBeLessThan(1e-3)
    expect(maxAbsDiff(webgpu.scores, cpu.scores)).toBeLessThan(1e-3)
  }, 300_000)

  it('keeps tensors and the GPU buffer pool flat over 200 bucketed steps; releasing the pool frees it', async () => {
    type Pool = { allocated: number; used: number }
    type Snap = { tensors: number; pool: Pool }
    const { result } = await scenario<{
      before: Snap
      after: Snap
      unbucketed: Pool
      freed: number
      released: Pool
    }>('growth')
    expect(result.after.tensors).toBe(result.before.tensors)
    expect(result.after.pool.used).toBe(result.before.pool.used)
    expect(result.after.pool.allocated).toBeLessThanOrEqual(result.before.pool.allocated)
    expect(result.before.pool.allocated).toBeGreaterThan(0)
    // A new length per step grows the pool (exact-size matching); the release gives it all back.
    expect(result.unbucketed.allocated).toBeGreaterThan(result.after.pool.allocated)
    expect(result.freed).toBe(result.unbucketed.allocated - result.unbucketed.used)
    expect(result.released.allocated).toBe(result.released.used)
  }, 300_000)

  it('runs in the training and engine workers: a cancelled GPU run resumes to the same metrics', async () => {
    type Brief = { status: string; error?: string; backend: string; test: { ndcg100: number } }
    const { result, label } = await scenario<{
      reference: Brief
      cancelled: string
      resumed: Brief
      inspected: number
      appInfo: { name: string; reason: string; adapter?: string }
    }>('workers')
    expect(result.reference.error).toBeUndefined()
    expect(result.reference.status).toBe('done')
    // The run record names the adapter, as the checkpoint and the badge do.
    expect(result.reference.backend).toBe(label)
    expect(result.cancelled).toBe('cancelled')
    expect(result.resumed.status).toBe('done')
    expect(result.resumed.test).toEqual(result.reference.test)
    expect(result.inspected).toBe(5)
    expect(result.appInfo.name).toBe('webgpu')
    expect(label).toContain(result.appInfo.adapter)
  }, 300_000)

  it('catches a tensor over the binding limit, which Dawn only logs (the result is silently wrong)', async () => {
    const { result, adapter } = await scenario<{
      sum: number
      expected: number
      error: string | null
      refused: string | null
    }>('binding')
    expect(result.refused).toMatch(
      /^the attention scores \[20000, 2, 32, 32\] needs 156\.3 MiB in one GPU buffer, over this adapter's binding limit of 128\.0 MiB: lower batchSize or maxLength$/,
    )
    expect(adapter.maxStorageBufferBindingSize).toBe(128 << 20)
    expect(result.sum).not.toBe(result.expected)
    expect(result.error).toMatch(/^WebGPU error .*larger than the maximum storage buffer binding size/)
  }, 300_000)

  it('fails a run on a WebGPU validation error (uncapturederror) instead of training on', async () => {
    const { result } = await scenario<{ error: string | null }>('uncaptured')
    expect(result.error).toMatch(/^WebGPU error \(results cannot be trusted, run stopped\): .*usage/i)
  }, 300_000)
})
