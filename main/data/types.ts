// The in-memory dataset every consumer agrees on: engine, baselines, evaluator, store, CLI.
// Users and items are dense 0-based indices; original ids are kept for display and export.

export interface Review {
  user: number
  item: number
  text: string
}

export interface RecDataset {
  /** Display name. */
  name: string
  /** True for generated data: every place that shows this dataset labels it synthetic. */
  synthetic: boolean
  /** Original user ids, index = dense user index. */
  userIds: string[]
  /** Original item ids, index = dense item index. */
  itemIds: string[]
  /** Per user, the training item indices (unique, ascending). */
  train: number[][]
  /** Per user, validation item indices. */
  val: number[][]
  /** Per user, test item indices. */
  test: number[][]
  /** User–item review texts (content LLM main text). */
  reviews: Review[]
  /** Per item, optional descriptive text (title, description, tags); null when absent. */
  itemTexts: (string | null)[]
  /** Per user, optional profile text; null when absent. */
  userTexts: (string | null)[]
  /** How the split was made, e.g. "per-user random 80/10/10, seed 1" or "provided (CLLM4Rec)". */
  splitProtocol: string
  /** sha256 of the processed interactions + split (hex); identical data gives an identical hash. */
  hash: string
}
