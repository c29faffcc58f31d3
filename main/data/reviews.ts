// Only reviews of training interactions may feed a document, a backbone corpus, a tokenizer or a
// preview (CLLM4REC.md §2): a validation/test review would leak the answer through the mutual term.
import type { RecDataset, Review } from './types'

/** True when (user, item) is a training pair; train lists are sorted ascending. */
export function isTrainingPair(train: number[][], user: number, item: number): boolean {
  const items = train[user]
  if (!items) return false
  let lo = 0
  let hi = items.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (items[mid] === item) return true
    if (items[mid] < item) lo = mid + 1
    else hi = mid - 1
  }
  return false
}

/** The reviews of training pairs only (also for datasets stored before the leak was fixed). */
export function trainingReviews(data: Pick<RecDataset, 'train' | 'reviews'>): Review[] {
  return data.reviews.filter((r) => isTrainingPair(data.train, r.user, r.item))
}
