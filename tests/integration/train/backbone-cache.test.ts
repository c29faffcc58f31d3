// Two runs that build the same scratch backbone at once (a sweep beside a training run, two bench runs)
// must not pull the cached folder from under the one that finished first and is loading it.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { generateDemoDataset } from '../../../main/data/demo'
import { initBackend } from '../../../main/engine/backend'
import { prepareBackbone } from '../../../main/engine/cllm4rec/backbone'
import { resolveConfig } from '../../../main/engine/cllm4rec/config'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'backbone-cache-'))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

describe('scratch backbone cache', () => {
  it('keeps the first finished copy when two builds of it overlap, and leaves no temp folder', async () => {
    await initBackend('native')
    const data = generateDemoDataset({ seed: 4, users: 40, items: 20, perUser: 6 })
    const config = resolveConfig('fast', {
      scratch: { layers: 1, width: 16, heads: 2, context: 32, epochs: 2, vocabSize: 300 },
    })
    const dir = path.join(root, 'bb')
    const weights = path.join(dir, 'model.safetensors')
    let trainings = 0
    const build = () =>
      prepareBackbone(data, config, { dir, onLog: () => void trainings++ }).then((b) => {
        const ino = fs.statSync(weights).ino
        return { b, ino }
      })
    const [a, b] = await Promise.all([build(), build()])
    // Both trained (neither found the folder at its start), and both hold the same file.
    expect(trainings).toBe(2)
    expect(b.ino).toBe(a.ino)
    expect(fs.statSync(weights).ino).toBe(a.ino)
    expect(fs.readdirSync(root)).toEqual(['bb'])
    a.b.model.dispose()
    b.b.model.dispose()
  }, 120_000)
})
