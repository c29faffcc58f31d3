// EASE's cost is one SPD inverse of XᵀX + λI per λ (J x J, float64). Seconds per λ on the CLLM4Rec
// Beauty and Sports splits: the native LAPACK inverse vs the JS Cholesky, plus numpy's inverse of a
// random SPD matrix of the same size for reference (numpy sees no data here).
// Flags: --data DIR (default ../shared/data/amazon-cllm4rec), --js-max J (skip JS above this size).
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { parseArgs } from '../main/cli/args'
import { loadNative } from '../main/engine/backend'
import { gramMatrix } from '../main/engine/baselines/ease'
import { spdInverse } from '../main/engine/baselines/spd-inverse'
import { readCllm4recSplit } from '../main/data/cllm4rec-split'

function seconds(fn: () => void): number {
  const t0 = performance.now()
  fn()
  return (performance.now() - t0) / 1000
}

function numpySeconds(n: number): number | undefined {
  const py = [
    'import numpy as np, time',
    `n = ${n}; r = np.random.default_rng(1)`,
    'x = r.random((n, 64)); a = x @ x.T + 100.0 * np.eye(n)',
    't = time.perf_counter(); np.linalg.inv(a); print(time.perf_counter() - t)',
  ].join('\n')
  try {
    const out = execFileSync('python3', ['-c', py], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    return Number(out.trim())
  } catch {
    return undefined
  }
}

export async function run(argv: string[]): Promise<void> {
  const f = parseArgs('bench ease', argv, {
    data: { type: 'string', help: 'folder holding beauty/ and sports/ (CLLM4Rec splits)' },
    'js-max': { type: 'int', help: 'largest item count the JS inverse is timed on (default 8000)' },
  })
  const root = f.data ?? path.resolve(import.meta.dirname, '../../shared/data/amazon-cllm4rec')
  const jsMax = f['js-max'] ?? 8000
  let native: string
  try {
    const info = loadNative().info()
    native = `${info.library}, ${info.threads} threads`
  } catch (e) {
    native = ''
    process.stderr.write(`native: ${(e as Error).message}\n`)
  }
  const lambda = 300
  console.log(`EASE inverse of XᵀX + ${lambda}·I, seconds per λ${native ? ` (native: ${native})` : ''}`)
  console.log('| dataset | items | native | JS | JS/native | numpy inv (random SPD) |')
  console.log('| --- | --- | --- | --- | --- | --- |')
  for (const name of ['beauty', 'sports']) {
    const data = readCllm4recSplit(path.join(root, name), name)
    const J = data.itemIds.length
    const A = gramMatrix(data)
    for (let i = 0; i < J; i++) A[i * J + i] += lambda
    const tn = native ? seconds(() => spdInverse(A, J)) : undefined
    const tj = J <= jsMax ? seconds(() => spdInverse(A, J, { native: false })) : undefined
    const tp = numpySeconds(J)
    const fmt = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(2))
    const ratio = tn && tj ? `${(tj / tn).toFixed(1)}x` : '-'
    console.log(`| ${name} | ${J} | ${fmt(tn)} | ${fmt(tj)} | ${ratio} | ${fmt(tp)} |`)
  }
}
