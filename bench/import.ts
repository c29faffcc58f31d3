// Import throughput benchmark (`npm run bench -- import [--rows N] [--jsonl-rows N]`): generates a
// 5-million-row interaction TSV and a 1-million-line Amazon-style JSONL.gz in a temp dir, imports each
// (parse + preprocess + SQLite, one transaction) in a fresh child process, and prints rows/s per phase
// and peak RSS (sampled process.memoryUsage().rss plus the kernel's max RSS of that process).
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import zlib from 'node:zlib'
import { fileURLToPath } from 'node:url'
import { mulberry32 } from '../main/data/prng'

const SELF = fileURLToPath(import.meta.url)

async function writeLines(
  file: string,
  n: number,
  line: (i: number) => string,
  gzip: boolean,
): Promise<void> {
  const out = fs.createWriteStream(file)
  const sink: NodeJS.WritableStream = gzip ? zlib.createGzip({ level: 1 }) : out
  if (gzip) (sink as zlib.Gzip).pipe(out)
  let buf = ''
  for (let i = 0; i < n; i++) {
    buf += line(i)
    if (buf.length > 1 << 20) {
      if (!sink.write(buf)) await new Promise<void>((r) => sink.once('drain', () => r()))
      buf = ''
    }
  }
  sink.write(buf)
  sink.end()
  await new Promise<void>((r) => out.on('close', () => r()))
}

const WORDS =
  'great product works well cheap quality broke after week love color size fits perfect smell skin'.split(' ')

async function generate(
  dir: string,
  rows: number,
  jsonlRows: number,
): Promise<{ tsv: string; jsonl: string }> {
  const rand = mulberry32(1)
  const tsv = path.join(dir, 'interactions.tsv')
  // Zipf-ish skew on items so k-core / degree stats look like real data.
  const item = () => Math.floor(50_000 * rand() ** 2)
  await writeLines(
    tsv,
    rows + 1,
    (i) =>
      i === 0
        ? 'user_id\titem_id\trating\ttimestamp\n'
        : `${Math.floor(rand() * 200_000)}\t${item()}\t${1 + Math.floor(rand() * 5)}\t${1_500_000_000 + i}\n`,
    false,
  )
  const jsonl = path.join(dir, 'reviews.json.gz')
  await writeLines(
    jsonl,
    jsonlRows,
    (i) => {
      const text = Array.from(
        { length: 8 + Math.floor(rand() * 20) },
        () => WORDS[Math.floor(rand() * WORDS.length)],
      ).join(' ')
      return (
        JSON.stringify({
          reviewerID: `A${Math.floor(rand() * 100_000)
            .toString(36)
            .toUpperCase()}`,
          asin: `B${item().toString(36).toUpperCase().padStart(9, '0')}`,
          overall: 1 + Math.floor(rand() * 5),
          unixReviewTime: 1_400_000_000 + i,
          reviewText: text,
          summary: text.slice(0, 20),
        }) + '\n'
      )
    },
    true,
  )
  return { tsv, jsonl }
}

interface ChildResult {
  rows: number
  kept: number
  parseMs: number
  writeMs: number
  totalMs: number
  loadMs: number
  peakRssMB: number
  maxRssMB: number
}

/** Runs in the child: one import into a fresh database, timing phases from the progress events. */
async function child(file: string, db: string): Promise<void> {
  const { openStore } = await import('../main/store/db')
  const { importDataset } = await import('../main/store/import-dataset')
  let peak = 0
  const sample = () => (peak = Math.max(peak, process.memoryUsage().rss))
  const timer = setInterval(sample, 50)
  const store = openStore(db)
  const t0 = performance.now()
  let tWrite = 0
  const r = await importDataset(store, {
    path: file,
    onProgress: (p) => {
      sample() // the SQLite write is synchronous: sample from its progress callbacks too
      if (p.phase === 'write' && tWrite === 0) tWrite = performance.now()
    },
  })
  const t1 = performance.now()
  const { loadDataset } = await import('../main/store/datasets-repo')
  const l0 = performance.now()
  loadDataset(store, r.datasetId)
  const loadMs = performance.now() - l0
  clearInterval(timer)
  sample()
  store.close()
  const res: ChildResult = {
    rows: r.report.rawRows,
    kept: r.stats.interactions.total,
    parseMs: tWrite - t0,
    writeMs: t1 - tWrite,
    totalMs: t1 - t0,
    loadMs,
    peakRssMB: peak / 2 ** 20,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  }
  process.stdout.write(JSON.stringify(res) + '\n')
}

function runChild(file: string, db: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', SELF, '--child', file, db], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    p.stdout.on('data', (d) => (out += d))
    p.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').pop()!))
        : reject(new Error(`child exited ${code}`)),
    )
  })
}

export async function run(argv: string[]): Promise<void> {
  const arg = (name: string, def: number) => {
    const i = argv.indexOf(`--${name}`)
    return i >= 0 ? Number(argv[i + 1]) : def
  }
  const rows = arg('rows', 5_000_000)
  const jsonlRows = arg('jsonl-rows', 1_000_000)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cllm4rec-bench-import-'))
  try {
    const g0 = performance.now()
    const { tsv, jsonl } = await generate(dir, rows, jsonlRows)
    const mb = (f: string) => (fs.statSync(f).size / 2 ** 20).toFixed(0)
    console.log(
      `generated ${rows} TSV rows (${mb(tsv)} MiB) and ${jsonlRows} JSONL.gz lines (${mb(jsonl)} MiB) in ${((performance.now() - g0) / 1000).toFixed(1)} s`,
    )
    console.log(
      'input                 rows      kept   parse+prep rows/s   SQLite rows/s   total rows/s   peak RSS (sampled / max)',
    )
    for (const [label, file] of [
      [`TSV ${rows / 1e6}M`, tsv],
      [`Amazon JSONL.gz ${jsonlRows / 1e6}M`, jsonl],
    ] as const) {
      const r = await runChild(file, path.join(dir, `${path.basename(file)}.db`))
      const rate = (n: number, ms: number) =>
        Math.round(n / (ms / 1000))
          .toLocaleString('en-US')
          .padStart(12)
      console.log(
        `${label.padEnd(20)} ${String(r.rows).padStart(8)} ${String(r.kept).padStart(9)}   ${rate(r.rows, r.parseMs)}      ${rate(r.kept, r.writeMs)}   ${rate(r.rows, r.totalMs)}   ${r.peakRssMB.toFixed(0)} / ${r.maxRssMB.toFixed(0)} MiB  (${(r.totalMs / 1000).toFixed(1)} s; loadDataset ${(r.loadMs / 1000).toFixed(1)} s)`,
      )
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4])
