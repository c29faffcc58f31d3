// Top-K recommendation lists of a run (per user, rank 1..K), replaced atomically per run.
import { StoreError, type Store } from './db'
import { BatchInserter } from './datasets-repo'

export interface Recommendation {
  user: number
  rank: number
  item: number
  score: number
}

/** Replaces the run's lists for the given users in one transaction. lists: user -> [{item, score}] best first. */
export function saveRecommendations(
  store: Store,
  runId: number,
  lists: Map<number, { item: number; score: number }[]>,
): void {
  const db = store.db
  store.write(`saving recommendations of run ${runId}`, () => {
    if (!db.prepare('SELECT 1 FROM runs WHERE id = ?').get(runId))
      throw new StoreError(`no run with id ${runId}`)
    const del = db.prepare('DELETE FROM recommendations WHERE run_id = ? AND user_idx = ?')
    const ins = new BatchInserter(
      db,
      'INSERT INTO recommendations (run_id, user_idx, rank, item_idx, score)',
      5,
    )
    for (const [user, list] of lists) {
      del.run(runId, user)
      list.forEach((r, i) => ins.push(runId, user, i + 1, r.item, r.score))
    }
    ins.flush()
  })
}

export function getRecommendations(store: Store, runId: number, user: number, k?: number): Recommendation[] {
  return store.db
    .prepare(
      `SELECT user_idx AS user, rank, item_idx AS item, score FROM recommendations
       WHERE run_id = ? AND user_idx = ? ${k ? 'AND rank <= ?' : ''} ORDER BY rank`,
    )
    .all(...(k ? [runId, user, k] : [runId, user])) as Recommendation[]
}
