// Benchmark entry: `npm run bench -- <name> [args]` runs bench/<name>.ts. Add one line per benchmark.
const benches: Record<
  string,
  { help: string; load: () => Promise<{ run: (argv: string[]) => Promise<void> }> }
> = {
  backend: {
    help: 'matMul GFLOP/s and GPT-2 forward+backward tokens/s per TensorFlow.js backend',
    load: () => import('./backend'),
  },
  quality: {
    help: 'CLLM4Rec (scratch backbone) vs popularity, EASE, Mult-VAE on one split: metrics, wall time, tok/s',
    load: () => import('./quality'),
  },
  ease: {
    help: 'EASE seconds per λ on Beauty and Sports: native LAPACK inverse vs JS (numpy for reference)',
    load: () => import('./ease'),
  },
  'mult-vae': {
    help: "Mult-VAE's encoder layer, dense vs sparse input, and seconds per epoch on Beauty",
    load: () => import('./mult-vae'),
  },
  heads: {
    help: 'item heads at Beauty shapes: RecLLM a row a target vs a row a user; collaborative full vs chunked',
    load: () => import('./heads'),
  },
  import: {
    help: 'import rows/s and peak RSS: 5M-row TSV and 1M-line Amazon JSONL.gz',
    load: () => import('./import'),
  },
}

async function main(): Promise<number> {
  const [name, ...rest] = process.argv.slice(2)
  const list = Object.entries(benches)
    .map(([n, b]) => `  ${n.padEnd(10)} ${b.help}`)
    .join('\n')
  const bench = name ? benches[name] : undefined
  if (!bench) {
    process.stderr.write(
      `${name ? `unknown benchmark "${name}"\n` : ''}usage: npm run bench -- <name> [args]\n${list}\n`,
    )
    return 2
  }
  await (await bench.load()).run(rest)
  return 0
}

main().then(
  (code) => (process.exitCode = code),
  (e) => {
    process.stderr.write(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
    process.exitCode = 1
  },
)
