// Shared test fixtures: a word-level tokenizer with a hand-checkable vocabulary, a tiny dataset, and a
// tiny random GPT-2 whose vocabulary matches the tokenizer.
import type { RecDataset } from '../../../main/data/types'
import { Gpt2 } from '../../../main/engine/gpt2/model'
import type { TextTokenizer } from '../../../main/engine/cllm4rec/vocab'

export const WORDS = [
  ' has',
  ' interacted',
  ' with',
  ' writes',
  ' the',
  ' following',
  ' review',
  ' for',
  ':',
  ' is',
  ' described',
  ' as',
  ',',
  ' user',
  ' will',
  ' interact',
  ' great',
  ' red',
  ' lipstick',
  ' soft',
  ' brush',
  '.',
]

export class WordTokenizer implements TextTokenizer {
  readonly ids = new Map(WORDS.map((w, i) => [w, i]))
  encode(text: string): number[] {
    return (text.match(/ ?[^ ,:.]+|[,:.]/g) ?? []).map((w) => {
      const id = this.ids.get(w)
      if (id === undefined) throw new Error(`unknown word "${w}"`)
      return id
    })
  }
  decode(ids: number[]): string {
    return ids.map((i) => WORDS[i]).join('')
  }
  pieces(ids: number[]): string[] {
    return ids.map((i) => WORDS[i])
  }
}

export const VOCAB = WORDS.length // 22

export function tinyData(): RecDataset {
  return {
    name: 'tiny',
    synthetic: true,
    userIds: ['u0', 'u1', 'u2', 'u3'],
    itemIds: ['i0', 'i1', 'i2', 'i3', 'i4', 'i5'],
    train: [
      [0, 1, 2],
      [1, 2, 3, 4],
      [0, 5],
      [2, 3, 4, 5],
    ],
    val: [[3], [5], [1], [0]],
    test: [[4], [0], [3], [1]],
    reviews: [
      { user: 0, item: 0, text: 'great red lipstick.' },
      { user: 1, item: 4, text: 'soft brush.' },
    ],
    itemTexts: ['red lipstick', null, null, null, 'soft brush', null],
    userTexts: [null, null, null, null],
    splitProtocol: 'hand-made',
    hash: 'tiny-hash',
  }
}

export function tinyBackbone(seed = 3): Gpt2 {
  return Gpt2.random(
    { vocabSize: VOCAB, nPositions: 64, nEmbd: 16, nLayer: 1, nHead: 2, layerNormEpsilon: 1e-5 },
    seed,
  )
}
