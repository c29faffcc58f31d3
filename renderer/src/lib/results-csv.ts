// The results CSV for papers: one line per run or baseline as grouped on screen, with what reproduces a
// run (seed, resolved config, prompt phrases) beside its metrics.
import type { RunDetail } from '../../../preload/api'
import type { ResultGroup } from './result-groups'
import { toCsv } from './download'

export const RESULTS_CSV_HEADER = [
  'kind',
  'runId',
  'runName',
  'model',
  'dataset',
  'protocol',
  'sweep',
  'tags',
  'seed',
  'backbone',
  'recall20',
  'recall40',
  'ndcg100',
  'valRecall20',
  'lastValRecall20',
  'durationSec',
  'config',
  'prompts',
]

export function exportResultsCsv(groups: ResultGroup[], details: Record<number, RunDetail>): string {
  const rows = groups.flatMap((g) =>
    g.rows.map((r) => {
      const d = r.runId !== undefined ? details[r.runId] : undefined
      return [
        r.kind,
        r.runId,
        r.runName ?? '',
        r.model,
        r.datasetName,
        r.protocol,
        r.sweep ?? '',
        (r.tags ?? []).join(';'),
        r.seed,
        r.backbone,
        r.test.recall20,
        r.test.recall40,
        r.test.ndcg100,
        r.val?.recall20,
        r.lastVal?.recall20,
        r.durationSec,
        d ? JSON.stringify(d.config) : '',
        d ? JSON.stringify(d.templates) : '',
      ]
    }),
  )
  return toCsv(RESULTS_CSV_HEADER, rows)
}
