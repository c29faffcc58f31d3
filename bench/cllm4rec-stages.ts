// Tokens/s of each CLLM4Rec training stage (content, collaborative, RecLLM) on a real split, through the
// trainer itself: one epoch of each on the first `users` users of the split (every item kept, so the item
// head has its real width), with a random backbone of the scratch shape (2 layers, width 64) over a BPE
// vocabulary learned from the same texts. Used by `bench backend` for each backend in one run.
import { Gpt2 } from '../main/engine/gpt2/model'
import { Gpt2Tokenizer } from '../main/engine/gpt2/tokenizer'
import { learnBpe } from '../main/engine/gpt2/bpe-train'
import { resolveConfig } from '../main/engine/cllm4rec/config'
import { backboneTexts } from '../main/engine/cllm4rec/corpus'
import { trainCllm4rec } from '../main/engine/cllm4rec/trainer'
import type { RecDataset } from '../main/data/types'

/** The first n users with their interactions and reviews; items and texts unchanged. */
export function firstUsers(data: RecDataset, n: number): RecDataset {
  const k = Math.min(n, data.userIds.length)
  return {
    ...data,
    name: `${data.name} (first ${k} users)`,
    userIds: data.userIds.slice(0, k),
    train: data.train.slice(0, k),
    val: data.val.slice(0, k),
    test: data.test.slice(0, k),
    reviews: data.reviews.filter((r) => r.user < k),
    userTexts: data.userTexts.slice(0, k),
    hash: `${data.hash}:first${k}`,
  }
}

export type StageRates = Record<'content' | 'collab' | 'rec', number>

/** One epoch of each stage on the current backend; tokens/s per stage. */
export async function cllm4recStageRates(data: RecDataset, vocabSize = 2000): Promise<StageRates> {
  const config = resolveConfig('paper', {
    warmupEpochs: 0,
    rounds: 1,
    finetuneEpochs: 1,
    finetuneContent: false,
  })
  const bpe = learnBpe(backboneTexts(data, config.prompts), vocabSize)
  const tokenizer = new Gpt2Tokenizer(bpe.vocab, bpe.merges, 'bench tokenizer')
  const model = Gpt2.random(
    { vocabSize: bpe.vocab.size, nPositions: 256, nEmbd: 64, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 },
    1,
  )
  // The session owns the backbone from here: disposing it (or a failed run) frees both.
  const r = await trainCllm4rec(data, config, {
    backbone: { model, tokenizer, dir: 'bench' },
    skipTest: true,
  })
  r.session.dispose()
  const rate = (k: string) => r.stages[k]?.tokensPerSec ?? NaN
  return { content: rate('pretrain:content'), collab: rate('pretrain:collab'), rec: rate('finetune:rec') }
}
