// Results breakdown: the best model of a row is the highest figure, ties shared, none when all agree.
import { describe, expect, it } from 'vitest'
import { bestModels } from '../../../renderer/src/lib/breakdown'

describe('bestModels', () => {
  it('marks the highest figure, every model that ties for it, and nothing where all agree or none scored', () => {
    expect([...bestModels({ CLLM4Rec: 0.4, Popularity: 0.1, EASE: 0.5 })]).toEqual(['EASE'])
    expect([...bestModels({ CLLM4Rec: 0.5, Popularity: 0.1, EASE: 0.5 })]).toEqual(['CLLM4Rec', 'EASE'])
    expect(bestModels({ CLLM4Rec: 0.2, Popularity: 0.2 }).size).toBe(0)
    expect(bestModels({ CLLM4Rec: null, Popularity: null }).size).toBe(0)
  })
})
