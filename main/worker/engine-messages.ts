// Typed requests and replies of the engine worker (inspection, previews, baselines, breakdowns). Unknown
// ops throw.
import type { Sampling } from '../engine/gpt2/sampling'
import type { DocumentKind, EvalSplit, PromptTemplates } from '../../preload/api'
import type { FormatName } from '../data/import-source'

type Req<Op extends string, T> = { type: 'call'; id: number; op: Op } & T

export type EngineRequest =
  | Req<'inspectUser', { dbPath: string; runId: number; user: number; k: number }>
  | Req<'inspectItem', { dbPath: string; runId: number; item: number; k: number }>
  | Req<'projection', { dbPath: string; runId: number; maxItems: number }>
  | Req<
      'generateReview',
      {
        dbPath: string
        runId: number
        user: number
        item: number
        maxNewTokens: number
        /** Absent: greedy. */
        sampling?: Sampling
      }
    >
  | Req<
      'checkTemplates',
      { templates: PromptTemplates; tokenizerDir: string | null; dbPath: string; datasetId: number | null }
    >
  | Req<
      'previewDocument',
      {
        dbPath: string
        datasetId: number
        /** null: no scratch backbone trained yet; the worker learns the same BPE on the dataset's text. */
        tokenizerDir: string | null
        templates: PromptTemplates
        kind: DocumentKind
        user: number
        item: number
        maxLength: number
      }
    >
  | Req<
      'baselines',
      {
        dbPath: string
        datasetId: number
        /** Int32Array(1) in shared memory; 1 = cancel (read at every check of the signal). */
        cancelFlag: SharedArrayBuffer
      }
    >
  | Req<
      'breakdown',
      {
        dbPath: string
        runId: number
        split: EvalSplit
        /** Mult-VAE's epochs; null leaves Mult-VAE out. */
        multVaeEpochs: number | null
        /** Int32Array(1) in shared memory; 1 = cancel (read at every check of the signal). */
        cancelFlag: SharedArrayBuffer
      }
    >
  | Req<'previewImport', { file: string; format?: FormatName; allowedRoots?: string[] }>
  | Req<
      'importDataset',
      {
        dbPath: string
        file: string
        options: Record<string, unknown>
        /** Int32Array(1) in shared memory; 1 = cancel (checked on every progress report). */
        cancelFlag: SharedArrayBuffer
      }
    >
  | Req<'createDemoDataset', { dbPath: string; options: { seed: number; users?: number; items?: number } }>

/** A request without the envelope, as the client builds it. */
export type EngineCall = EngineRequest extends infer R
  ? R extends EngineRequest
    ? Omit<R, 'type' | 'id'>
    : never
  : never

export type EngineReply =
  | { type: 'result'; id: number; value: unknown }
  | { type: 'progress'; id: number; progress: unknown }
  | { type: 'error'; id: number; message: string; status?: number }

// A Record over the union's ops: a new request type fails to compile until it is listed here.
const OPS: Record<EngineRequest['op'], true> = {
  inspectUser: true,
  inspectItem: true,
  projection: true,
  generateReview: true,
  checkTemplates: true,
  previewDocument: true,
  baselines: true,
  breakdown: true,
  previewImport: true,
  importDataset: true,
  createDemoDataset: true,
}

/** Main's last message to the engine worker: finish the calls, free the GPU, then reply. */
export interface EngineShutdown {
  type: 'shutdown'
  id: number
}

export function isEngineShutdown(x: unknown): x is EngineShutdown {
  const m = x as { type?: unknown; id?: unknown }
  return typeof m === 'object' && m !== null && m.type === 'shutdown' && typeof m.id === 'number'
}

export function parseEngineRequest(x: unknown): EngineRequest {
  const m = x as { type?: unknown; id?: unknown; op?: unknown }
  if (typeof m !== 'object' || m === null || m.type !== 'call')
    throw new Error(`engine worker: unknown message type '${String(m?.type)}'`)
  if (typeof m.id !== 'number') throw new Error('engine worker: request lacks an id')
  if (typeof m.op !== 'string' || !Object.prototype.hasOwnProperty.call(OPS, m.op))
    throw new Error(`engine worker: unknown op '${String(m.op)}'`)
  return x as EngineRequest
}

export function parseEngineReply(x: unknown): EngineReply {
  const m = x as { type?: unknown; id?: unknown }
  if (typeof m !== 'object' || m === null || typeof m.id !== 'number')
    throw new Error('engine reply: malformed')
  if (m.type !== 'result' && m.type !== 'error' && m.type !== 'progress')
    throw new Error(`engine reply: unknown message type '${String(m.type)}'`)
  return x as EngineReply
}
