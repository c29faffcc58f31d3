// Engine worker entry: a long-lived thread for the API's tensor work outside training (inspection,
// previews, baselines, breakdowns). Requests carry an id; each gets exactly one 'result' or 'error' reply.
// A small cache keeps the last datasets and trained sessions, since inspection calls come in bursts.
import { parentPort } from 'node:worker_threads'
import type * as A from '../../preload/api'
import type { RecDataset } from '../data/types'
import type { Cllm4recConfig } from '../engine/cllm4rec/config'
import type { Cllm4recSession } from '../engine/cllm4rec/session'
import type { TextTokenizer } from '../engine/cllm4rec/vocab'
import { isEngineShutdown, parseEngineRequest, type EngineReply, type EngineRequest } from './engine-messages'
import { LoadCache } from './load-cache'

if (!parentPort) throw new Error('engine-worker must run in a worker thread')
const port = parentPort

const CACHE = 2
const datasets = new LoadCache<RecDataset>(CACHE)
const sessions = new LoadCache<Cllm4recSession>(CACHE, (s) => s.dispose())
const tokenizers = new LoadCache<TextTokenizer>(CACHE)

/** A dataset holds no tensors, so it may outlive its place in the cache. */
async function dataset(dbPath: string, id: number): Promise<RecDataset> {
  const load = async () => (await import('../api/services')).loadDatasetFromDb(dbPath, id)
  return datasets.use(`${dbPath}#${id}`, load, (d) => d)
}

/** A finished run's model, uncached: the caller disposes it. */
async function openRun(
  dbPath: string,
  runId: number,
): Promise<{ session: Cllm4recSession; validationSelected: boolean }> {
  const { loadRunForInspection } = await import('../api/services-runs')
  const { loadSession, hasSelectedTables } = await import('./engine-ops')
  const r = loadRunForInspection(dbPath, runId)
  const s = await loadSession(
    await dataset(dbPath, r.datasetId),
    r.config as unknown as Cllm4recConfig,
    r.final,
  )
  return { session: s, validationSelected: hasSelectedTables(r.final) }
}

/** Runs `fn` on a run's cached session, which is not freed while `fn` runs. */
function withSession<R>(
  req: { dbPath: string; runId: number },
  fn: (s: Cllm4recSession) => Promise<R>,
): Promise<R> {
  const load = async () => (await openRun(req.dbPath, req.runId)).session
  return sessions.use(`${req.dbPath}#${req.runId}`, load, fn)
}

/** A breakdown runs once per call (a one-off worker): its session is freed at the end, not cached. */
async function breakdown(req: Extract<EngineRequest, { op: 'breakdown' }>): Promise<unknown> {
  const { runBreakdown } = await import('./breakdown-op')
  const run = await openRun(req.dbPath, req.runId)
  try {
    return await runBreakdown(run.session, {
      split: req.split,
      multVaeEpochs: req.multVaeEpochs,
      validationSelected: run.validationSelected,
      signal: flagSignal(req.cancelFlag),
      onProgress: (progress) =>
        port.postMessage({ type: 'progress', id: req.id, progress } satisfies EngineReply),
    })
  } finally {
    run.session.dispose()
  }
}

/** Tokenizers hold no tensors, so they may outlive their place in the cache. */
function tokenizer(dir: string): Promise<TextTokenizer> {
  const load = async () => (await import('./engine-ops')).loadTokenizer(dir)
  return tokenizers.use(dir, load, (t) => t)
}

/**
 * Before a dataset's first scratch run there is no trained backbone, but its tokenizer is fully
 * determined by the data and the prompts: learn the same byte-level BPE the run will learn, so the
 * preview shows the pieces the run will see (edited phrases included).
 */
async function scratchPreviewTokenizer(
  dbPath: string,
  datasetId: number,
  templates: A.PromptTemplates,
): Promise<TextTokenizer> {
  const key = `scratch-preview#${dbPath}#${datasetId}#${JSON.stringify(templates)}`
  return tokenizers.use(
    key,
    async () => {
      const [{ learnBpe }, { Gpt2Tokenizer }, { backboneTexts }, { DEFAULT_CONFIG }] = await Promise.all([
        import('../engine/gpt2/bpe-train'),
        import('../engine/gpt2/tokenizer'),
        import('../engine/cllm4rec/corpus'),
        import('../engine/cllm4rec/config'),
      ])
      const d = await dataset(dbPath, datasetId)
      const files = learnBpe(backboneTexts(d, templates), DEFAULT_CONFIG.scratch.vocabSize)
      return new Gpt2Tokenizer(files.vocab, files.merges, 'scratch preview tokenizer')
    },
    (t) => t,
  )
}

/**
 * An AbortSignal that reads main's shared cancel flag whenever it is looked at: training loops check
 * their signal between steps without yielding to this thread's event loop, so no message could arrive.
 */
function flagSignal(buffer: SharedArrayBuffer): AbortSignal {
  const flag = new Int32Array(buffer)
  const controller = new AbortController()
  return new Proxy(controller.signal, {
    get(target, key) {
      if (!target.aborted && Atomics.load(flag, 0) === 1) controller.abort(new Error('cancelled'))
      const value: unknown = Reflect.get(target, key, target)
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
    },
  })
}

let tensorsUsed = false
const inFlight = new Set<Promise<unknown>>()

async function handle(req: EngineRequest): Promise<unknown> {
  const ops = await import('./engine-ops')
  tensorsUsed = true
  switch (req.op) {
    case 'inspectUser':
      return withSession(req, (s) => ops.inspectUser(s, req.user, req.k))
    case 'inspectItem':
      return withSession(req, (s) => ops.inspectItem(s, req.item, req.k))
    case 'projection':
      return withSession(req, (s) => ops.projection(s, req.maxItems))
    case 'generateReview':
      return withSession(req, (s) =>
        ops.generateReview(s, req.user, req.item, req.maxNewTokens, req.sampling),
      )
    case 'checkTemplates':
      return ops.checkTemplates(
        req.templates,
        req.tokenizerDir
          ? await tokenizer(req.tokenizerDir)
          : req.datasetId !== null
            ? await scratchPreviewTokenizer(req.dbPath, req.datasetId, req.templates)
            : null,
      )
    case 'previewDocument': {
      const d = await dataset(req.dbPath, req.datasetId)
      return ops.previewDocument(
        d,
        req.tokenizerDir
          ? await tokenizer(req.tokenizerDir)
          : await scratchPreviewTokenizer(req.dbPath, req.datasetId, req.templates),
        req,
        req.maxLength,
      ) satisfies A.DocumentPreview
    }
    case 'baselines':
      return ops.runBaselines(
        await dataset(req.dbPath, req.datasetId),
        flagSignal(req.cancelFlag),
        (progress) => port.postMessage({ type: 'progress', id: req.id, progress } satisfies EngineReply),
      )
    case 'breakdown':
      return breakdown(req)
    case 'previewImport': {
      const { previewImportFile } = await import('../api/services')
      return previewImportFile(req.file, req.format, req.allowedRoots)
    }
    case 'createDemoDataset': {
      const { createDemoDatasetInDb } = await import('../api/services-jobs')
      return createDemoDatasetInDb(req.dbPath, req.options)
    }
    case 'importDataset': {
      const { importDatasetToDb } = await import('../api/services-jobs')
      const flag = new Int32Array(req.cancelFlag)
      const controller = new AbortController()
      return importDatasetToDb(req.dbPath, req.file, req.options, controller.signal, (progress) => {
        // Parsing may not yield to this thread's event loop: the shared flag is how cancel arrives.
        if (Atomics.load(flag, 0) === 1) controller.abort()
        port.postMessage({ type: 'progress', id: req.id, progress } satisfies EngineReply)
      })
    }
  }
}

/** Cooperative stop before main terminates this thread: calls finish, sessions and the GPU are freed. */
async function shutdown(id: number): Promise<void> {
  await Promise.allSettled([...inFlight])
  await sessions.clear()
  if (tensorsUsed) await (await import('../engine/backend')).shutdownBackend()
  port.postMessage({ type: 'result', id, value: null } satisfies EngineReply)
}

port.on('message', (raw: unknown) => {
  if (isEngineShutdown(raw)) {
    void shutdown(raw.id)
    return
  }
  const req = parseEngineRequest(raw)
  const call = handle(req).then(
    (value) => port.postMessage({ type: 'result', id: req.id, value } satisfies EngineReply),
    (err: unknown) => {
      const e = err as { message?: string; status?: number }
      port.postMessage({
        type: 'error',
        id: req.id,
        message: e?.message ?? String(err),
        status: typeof e?.status === 'number' ? e.status : undefined,
      } satisfies EngineReply)
    },
  )
  inFlight.add(call)
  void call.finally(() => inFlight.delete(call))
})
