import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  CHECKPOINT_FORMAT_VERSION,
  decodeCheckpoint,
  encodeCheckpoint,
  FsCheckpointSink,
  type Checkpoint,
} from '../../../main/engine/train/checkpoint'
import { Rng } from '../../../main/engine/train/rng'

const ckpt = (step: number): Checkpoint => ({
  formatVersion: CHECKPOINT_FORMAT_VERSION,
  config: { seed: 3, prompts: { collaborative: '{user} has interacted with' } },
  seed: 3,
  dataHash: 'abc',
  backend: 'wasm',
  stage: 'pretrain',
  step,
  rngState: 12345,
  extra: { history: [{ loss: 1.5 }] },
  tensors: {
    zl_user: { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6.5]) },
    'opt/collab/0': { shape: [], data: Float32Array.from([7]) },
  },
  savedAt: '2026-01-01T00:00:00.000Z',
})

describe('checkpoints', () => {
  it('round-trip every field and tensor bit-exactly', () => {
    const back = decodeCheckpoint(encodeCheckpoint(ckpt(4)))
    expect(back).toEqual(ckpt(4))
  })

  it('reject foreign files and unknown format versions', () => {
    expect(() => decodeCheckpoint(Buffer.from('hello world, not a checkpoint'), 'x.bin')).toThrow(
      /x.bin: not a CLLM4Rec checkpoint/,
    )
    const future = encodeCheckpoint({ ...ckpt(1), formatVersion: 99 })
    expect(() => decodeCheckpoint(future, 'f.bin')).toThrow(/formatVersion 99 unsupported/)
    const cut = encodeCheckpoint(ckpt(1)).subarray(0, 60)
    expect(() => decodeCheckpoint(cut, 'c.bin')).toThrow(/c.bin: truncated/)
  })

  it('filesystem sink writes atomically, loads the newest and keeps two', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ckpt-'))
    try {
      const sink = new FsCheckpointSink(dir)
      expect(await sink.loadLatest()).toBeNull()
      for (const s of [1, 2, 3]) await sink.save(ckpt(s))
      expect(fs.readdirSync(dir).sort()).toEqual(['ckpt-000002.bin', 'ckpt-000003.bin'])
      expect((await sink.loadLatest())?.step).toBe(3)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('PRNG state restores the exact continuation', () => {
    const a = new Rng(9)
    a.next()
    const b = new Rng(0)
    b.state = a.state
    expect([a.next(), a.next(), a.int(100)]).toEqual([b.next(), b.next(), b.int(100)])
  })
})
