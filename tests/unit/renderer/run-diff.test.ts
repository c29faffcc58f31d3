// Results view diff of two runs: nested config flattened, prompts compared per kind, equal runs empty.
import { describe, expect, it } from 'vitest'
import { diffRuns, flatten } from '../../../renderer/src/lib/run-diff'
import type { PromptTemplates } from '../../../preload/api'

const templates: PromptTemplates = {
  collaborative: '{user} has interacted with',
  review: '{user} writes the following review for {item}:',
  itemText: '{item} is described as:',
  userText: '{user} is described as:',
  recommendation: '{user} has interacted with {items}, the user will interact with',
}
const base = {
  config: { epochsScale: 0.01, scratch: { layers: 2, width: 64 }, prompts: templates },
  templates,
  seed: 1,
  backbone: 'scratch',
  datasetName: 'demo',
  dataHash: 'h1',
}

describe('run diff', () => {
  it('flattens nested objects to dotted keys and keeps arrays whole', () => {
    expect(flatten({ a: 1, s: { x: 2, y: { z: 3 } }, l: [1, 2] })).toEqual({
      a: 1,
      's.x': 2,
      's.y.z': 3,
      l: [1, 2],
    })
  })
  it('reports nothing for identical runs', () => {
    expect(diffRuns(base, structuredClone(base))).toEqual([])
  })
  it('reports changed nested keys, the changed prompt once, and the seed', () => {
    const t2 = { ...templates, collaborative: '{user} purchased' }
    const other = {
      ...base,
      seed: 2,
      templates: t2,
      config: { ...base.config, scratch: { layers: 4, width: 64 }, prompts: t2 },
    }
    expect(diffRuns(base, other)).toEqual([
      { key: 'scratch.layers', a: '2', b: '4' },
      { key: 'prompt.collaborative', a: '{user} has interacted with', b: '{user} purchased' },
      { key: 'seed', a: '1', b: '2' },
    ])
  })
})
