// CLI commands for the GPT-2 backbone: logits, greedy generation, and training the scratch backbone.
// JSON results go to stdout; the chosen backend, progress and errors go to stderr.
import * as tf from '@tensorflow/tfjs'
import fs from 'node:fs'
import { BACKEND_NAMES, initBackend, type BackendPreference } from '../engine/backend'
import { generateGreedy } from '../engine/gpt2/generate'
import { loadGpt2 } from '../engine/gpt2/model'
import { trainScratchBackbone } from '../engine/gpt2/scratch'
import { parseArgs, type CommandTable, type FlagSpecs } from './args'

export const BACKEND_FLAG = {
  backend: {
    type: 'string',
    help: 'TensorFlow.js backend (default auto)',
    choices: ['auto', ...BACKEND_NAMES],
  },
} as const satisfies FlagSpecs

/** Start the requested backend and say which one runs (stderr, so stdout stays pure JSON). */
export async function startBackend(prefer: string | undefined): Promise<void> {
  const info = await initBackend((prefer ?? 'auto') as BackendPreference)
  const skipped = info.tried.map((t) => `${t.name}: ${t.error.split('\n')[0]}`).join('; ')
  process.stderr.write(`backend: ${info.name} (${info.reason})${skipped ? ` [skipped ${skipped}]` : ''}\n`)
}

const modelFlags = {
  model: {
    type: 'string',
    required: true,
    help: 'Hugging Face GPT-2 folder (config.json, model.safetensors, vocab.json, merges.txt)',
  },
  text: { type: 'string', required: true, help: 'input text' },
  ...BACKEND_FLAG,
} as const satisfies FlagSpecs

async function logitsCommand(argv: string[]): Promise<number> {
  const f = parseArgs('logits', argv, modelFlags)
  await startBackend(f.backend)
  const { model, tokenizer } = await loadGpt2(f.model as string)
  try {
    const ids = tokenizer.encode(f.text as string)
    if (ids.length === 0) throw new Error('logits: --text encodes to no tokens')
    if (ids.length > model.config.nPositions)
      throw new Error(`logits: ${ids.length} tokens exceed the context of ${model.config.nPositions}`)
    const t = tf.tidy(() => {
      const { hidden } = model.forwardEmbeds(model.embedTokens(tf.tensor2d([ids], undefined, 'int32')))
      const last = hidden
        .slice([0, ids.length - 1, 0], [1, 1, model.config.nEmbd])
        .reshape([1, model.config.nEmbd])
      return model.logits(last as tf.Tensor2D)
    })
    const logits = Array.from(await t.data())
    t.dispose()
    process.stdout.write(JSON.stringify({ ids, logits }) + '\n')
    return 0
  } finally {
    model.dispose()
  }
}

async function generateCommand(argv: string[]): Promise<number> {
  const f = parseArgs('generate', argv, {
    ...modelFlags,
    'max-new-tokens': { type: 'int', help: 'tokens to generate (default 20)' },
  })
  const maxNewTokens = f['max-new-tokens'] ?? 20
  if (maxNewTokens < 0) throw new Error('generate: --max-new-tokens must be >= 0')
  await startBackend(f.backend)
  const { model, tokenizer } = await loadGpt2(f.model as string)
  try {
    const ids = await generateGreedy(model, tokenizer.encode(f.text as string), {
      maxNewTokens,
      stopId: tokenizer.eosId,
    })
    process.stdout.write(JSON.stringify({ ids, text: tokenizer.decode(ids) }) + '\n')
    return 0
  } finally {
    model.dispose()
  }
}

async function backboneCommand(argv: string[]): Promise<number> {
  const f = parseArgs('backbone', argv, {
    'text-file': { type: 'string', required: true, help: 'UTF-8 text, one document per line' },
    out: { type: 'string', required: true, help: 'output folder (HF GPT-2 format), replaced atomically' },
    layers: { type: 'int', help: 'transformer blocks (default 2)' },
    width: { type: 'int', help: 'embedding width (default 128)' },
    heads: { type: 'int', help: 'attention heads (default 4)' },
    context: { type: 'int', help: 'context length in tokens (default 128)' },
    epochs: { type: 'int', help: 'passes over the corpus (default 2)' },
    seed: { type: 'int', help: 'random seed (default 1)' },
    'vocab-size': { type: 'int', help: 'learned BPE vocabulary size (default 4000)' },
    tokenizer: {
      type: 'string',
      help: 'HF GPT-2 folder whose BPE to restrict to the corpus instead of learning one',
    },
    ...BACKEND_FLAG,
  })
  const file = f['text-file'] as string
  if (!fs.existsSync(file)) throw new Error(`backbone: --text-file ${file} not found`)
  const texts = fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
  if (texts.length === 0) throw new Error(`backbone: ${file} has no non-empty lines`)
  await startBackend(f.backend)
  const ctrl = new AbortController()
  const onSigint = () => ctrl.abort()
  process.once('SIGINT', onSigint)
  let lastPrint = 0
  try {
    const r = await trainScratchBackbone(texts, {
      outDir: f.out as string,
      layers: f.layers,
      width: f.width,
      heads: f.heads,
      context: f.context,
      epochs: f.epochs,
      seed: f.seed,
      vocabSize: f['vocab-size'],
      tokenizerDir: f.tokenizer,
      signal: ctrl.signal,
      onProgress: (p) => {
        const now = Date.now()
        if (now - lastPrint < 1000 && p.step !== p.totalSteps) return
        lastPrint = now
        process.stderr.write(
          `step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)} ${Math.round(p.tokensPerSec)} tok/s ETA ${Math.ceil(p.etaSec)}s\n`,
        )
      },
    })
    process.stdout.write(JSON.stringify(r) + '\n')
    return 0
  } finally {
    process.off('SIGINT', onSigint)
  }
}

export const gpt2Commands: CommandTable = {
  logits: { help: 'last-position vocabulary logits of a GPT-2 folder for --text (JSON)', run: logitsCommand },
  generate: { help: 'greedy continuation of --text with a KV cache (JSON)', run: generateCommand },
  backbone: { help: 'train the built-in scratch GPT-2 backbone on a text file', run: backboneCommand },
}
