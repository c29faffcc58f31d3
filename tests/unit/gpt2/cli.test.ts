// The CLI as a real child process (tsx): JSON on stdout equal to the in-process model, backend and
// progress on stderr, actionable errors with non-zero exit codes.
import * as tf from '@tensorflow/tfjs'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../main/engine/backend'
import { generateGreedy } from '../../../main/engine/gpt2/generate'
import { loadGpt2 } from '../../../main/engine/gpt2/model'
import { parseArgs, UsageError } from '../../../main/cli/args'

const ROOT = path.resolve(__dirname, '../../..')
const TINY = path.resolve(ROOT, '../shared/data/tiny-gpt2')
const REVIEWS = path.resolve(ROOT, '../shared/data/amazon-all-beauty-2018/converted/reviews.jsonl')
let tmp: string

function cli(...args: string[]): { code: number; stdout: string; stderr: string } {
  const env = { ...process.env }
  delete env.CLLM4REC_BACKEND
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'main/cli/index.ts', ...args], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  })
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

beforeAll(async () => {
  await initBackend('wasm')
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpt2-cli-'))
})
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe('cli gpt2 commands', () => {
  it('logits: full-vocabulary logits of the last position, equal to the in-process model', async () => {
    const r = cli('logits', '--model', TINY, '--text', 'Hello world', '--backend', 'wasm')
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/backend: wasm \(requested\)/)
    const out = JSON.parse(r.stdout)
    expect(out.ids).toEqual([15496, 995])
    expect(out.logits.length).toBe(50257)
    const { model } = await loadGpt2(TINY)
    const mine = tf.tidy(() => {
      const { hidden } = model.forwardEmbeds(
        model.embedTokens(tf.tensor2d([[15496, 995]], undefined, 'int32')),
      )
      return Array.from(
        model.logits(hidden.slice([0, 1, 0], [1, 1, 2]).reshape([1, 2]) as tf.Tensor2D).dataSync(),
      )
    })
    model.dispose()
    for (let i = 0; i < mine.length; i += 997) expect(out.logits[i]).toBeCloseTo(mine[i], 6)
    expect(Math.max(...out.logits.map((v: number, i: number) => Math.abs(v - mine[i])))).toBeLessThan(1e-6)
  })

  it('generate: greedy ids and text equal to in-process generation; auto backend reported', async () => {
    const r = cli('generate', '--model', TINY, '--text', 'Hello world', '--max-new-tokens', '4')
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/backend: (native|wasm|node|node-gpu|webgpu) /)
    const out = JSON.parse(r.stdout)
    const { model, tokenizer } = await loadGpt2(TINY)
    const ids = await generateGreedy(model, tokenizer.encode('Hello world'), {
      maxNewTokens: 4,
      stopId: tokenizer.eosId,
    })
    model.dispose()
    expect(out.ids).toEqual(ids)
    expect(out.text).toBe(tokenizer.decode(ids))
  })

  it('backbone: trains from a text file with progress and ETA on stderr, output loads', async () => {
    const lines = fs
      .readFileSync(REVIEWS, 'utf8')
      .split('\n')
      .filter(Boolean)
      .slice(0, 40)
      .map((l) => JSON.parse(l).summary as string)
    const file = path.join(tmp, 'corpus.txt')
    fs.writeFileSync(file, lines.join('\n'))
    const out = path.join(tmp, 'bb')
    const r = cli(
      'backbone',
      '--text-file',
      file,
      '--out',
      out,
      '--layers',
      '1',
      '--width',
      '16',
      '--heads',
      '2',
      '--context',
      '16',
      '--epochs',
      '1',
      '--vocab-size',
      '300',
      '--backend',
      'cpu',
    )
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/backend: cpu/)
    expect(r.stderr).toMatch(/step \d+\/\d+ loss [\d.]+ \d+ tok\/s ETA \d+s/)
    expect(JSON.parse(r.stdout).dir).toBe(out)
    const { model, config } = await loadGpt2(out)
    expect(config.vocabSize).toBe(300)
    model.dispose()
  })

  it('errors are actionable, on stderr, with non-zero exit codes', () => {
    const unknown = cli('frobnicate')
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"[\s\S]*logits[\s\S]*generate[\s\S]*backbone/)
    const flag = cli('logits', '--model', TINY, '--text', 'x', '--temperature', '2')
    expect(flag.code).toBe(2)
    expect(flag.stderr).toMatch(/unknown flag --temperature \(known flags: --model, --text, --backend\)/)
    const missing = cli(
      'logits',
      '--model',
      path.join(tmp, 'no-such-model'),
      '--text',
      'x',
      '--backend',
      'cpu',
    )
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/no-such-model: GPT-2 model folder not found/)
    expect(missing.stdout).toBe('')
    const required = cli('generate', '--text', 'x')
    expect(required.code).toBe(2)
    expect(required.stderr).toMatch(/missing required flag --model/)
    const badBackend = cli('logits', '--model', TINY, '--text', 'x', '--backend', 'tpu')
    expect(badBackend.stderr).toMatch(
      /--backend must be one of auto, node-gpu, webgpu, node, native, wasm, cpu/,
    )
    const badInt = cli('generate', '--model', TINY, '--text', 'x', '--max-new-tokens', 'many')
    expect(badInt.stderr).toMatch(/--max-new-tokens must be an integer, got "many"/)
  })
})

describe('shared argv parser', () => {
  const specs = {
    name: { type: 'string', help: 'a name', required: true },
    n: { type: 'int', help: 'a count' },
    rate: { type: 'number', help: 'a rate' },
    json: { type: 'boolean', help: 'JSON output' },
    mode: { type: 'string', help: 'mode', choices: ['a', 'b'] },
  } as const

  it('parses --k v, --k=v, booleans, ints, numbers and choices', () => {
    expect(
      parseArgs('x', ['--name', 'n1', '--n=3', '--rate', '-0.5', '--json', '--mode', 'b'], specs),
    ).toEqual({
      name: 'n1',
      n: 3,
      rate: -0.5,
      json: true,
      mode: 'b',
    })
    expect(parseArgs('x', ['--name=a=b', '--json=false'], specs)).toEqual({ name: 'a=b', json: false })
  })

  it('rejects unknown, repeated, missing, valueless and ill-typed flags with UsageError', () => {
    const bad: [string[], RegExp][] = [
      [
        ['--name', 'a', '--nmae', 'b'],
        /x: unknown flag --nmae \(known flags: --name, --n, --rate, --json, --mode\)/,
      ],
      [['--name', 'a', '--name', 'b'], /--name given twice/],
      [['--n', '3'], /missing required flag --name/],
      [['--name'], /--name needs a value/],
      [['--name', 'a', '--n', '1.5'], /--n must be an integer, got "1\.5"/],
      [['--name', 'a', '--rate', 'fast'], /--rate must be a number, got "fast"/],
      [['--name', 'a', '--mode', 'c'], /--mode must be one of a, b, got "c"/],
      [['stray'], /unexpected argument "stray"/],
    ]
    for (const [argv, msg] of bad) {
      expect(() => parseArgs('x', argv, specs)).toThrow(UsageError)
      expect(() => parseArgs('x', argv, specs)).toThrow(msg)
    }
  })
})
