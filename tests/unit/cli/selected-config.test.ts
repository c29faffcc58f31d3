// The quality bench runs the configuration selected for the authors' Beauty split when it is given no
// configuration flag: recognised by the split's content hash, with the Sports folder beside it as
// backbone texts; any configuration flag, or another dataset, gives the flags' configuration.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { resolveDataset } from '../../../main/cli/train-commands'
import { benchConfig, selectedConfigFor } from '../../../main/cli/selected-config'
import type { RecDataset } from '../../../main/data/types'

const SPLITS = path.resolve(__dirname, '../../../../shared/data/amazon-cllm4rec')
const BEAUTY = path.join(SPLITS, 'beauty')

let beauty: RecDataset
beforeAll(async () => {
  beauty = await resolveDataset(BEAUTY)
})

describe('selected configuration', () => {
  it("is the fast preset at 72 RecLLM epochs with the Sports split's texts for the authors' Beauty split", () => {
    const sel = selectedConfigFor(beauty, BEAUTY)
    expect(sel).not.toBeNull()
    expect(sel!.preset).toBe('fast')
    expect(sel!.overrides).toEqual({ finetuneEpochs: 72 })
    expect(sel!.backboneTexts).toBe(path.join(SPLITS, 'sports'))
    const run = benchConfig({ dataset: BEAUTY }, beauty)
    expect(run).toMatchObject({ preset: 'fast', backboneTexts: path.join(SPLITS, 'sports') })
    expect(run.selected).toBe(sel!.label)
  })

  it('gives way to any configuration flag', () => {
    expect(benchConfig({ dataset: BEAUTY, preset: 'paper' }, beauty)).toEqual({
      preset: 'paper',
      overrides: {},
      backboneTexts: undefined,
      selected: null,
    })
    expect(benchConfig({ dataset: BEAUTY, 'epochs-scale': 0.5 }, beauty).selected).toBeNull()
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sel-')), 'o.json')
    fs.writeFileSync(file, '{"seed":3}')
    expect(benchConfig({ dataset: BEAUTY, config: file }, beauty)).toMatchObject({
      preset: 'paper',
      overrides: { seed: 3 },
      selected: null,
    })
  })

  it('is none for another split, whose default stays the paper preset', async () => {
    const sports = await resolveDataset(path.join(SPLITS, 'sports'))
    expect(selectedConfigFor(sports, path.join(SPLITS, 'sports'))).toBeNull()
    expect(benchConfig({ dataset: 'x' }, sports)).toMatchObject({ preset: 'paper', selected: null })
  })

  it('names the missing texts folder when the split sits alone', () => {
    const alone = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sel-')), 'beauty')
    expect(() => selectedConfigFor(beauty, alone)).toThrow(path.join(path.dirname(alone), 'sports'))
  })

  it('hands out a copy of its overrides', () => {
    selectedConfigFor(beauty, BEAUTY)!.overrides.finetuneEpochs = 9
    expect(selectedConfigFor(beauty, BEAUTY)!.overrides.finetuneEpochs).toBe(72)
  })
})
