// ONE table of handlers implementing WorkbenchApi (minus onEvent), keyed by method name. Electron IPC,
// browser mode (HTTP) and tests all call through callApi(), which rejects unknown methods and validates
// every argument before anything touches the store, the engine or the disk.
import type * as A from '../../preload/api'
import type { ApiContext } from './context'
import { API_METHODS, isApiMethod, type ApiMethod } from './methods'
import * as v from './validate'

export type HandlerTable = { [M in ApiMethod]: (...args: unknown[]) => ReturnType<A.WorkbenchApi[M]> }

const MAX_LIST = 10_000
const MAX_K = 1_000

function bytesArg(name: string, b: unknown): Uint8Array {
  if (b instanceof Uint8Array) return b
  if (b instanceof ArrayBuffer) return new Uint8Array(b)
  throw new v.ApiError(`argument '${name}' must be an ArrayBuffer or Uint8Array`)
}

/** users x items of a demo dataset: about 5 s of generation in its worker on a laptop core. */
export const DEMO_MAX_CELLS = 50_000_000

export function createHandlers(ctx: ApiContext): HandlerTable {
  const { services: s, runData: rd, engine: e, files, runs } = ctx
  const kinds = v.DOCUMENT_KINDS
  return {
    async appInfo() {
      return { version: ctx.version, mode: ctx.mode, backend: await s.backend(), dbPath: s.dbPath }
    },

    async pickFile() {
      const p = await ctx.dialogs.pickFile()
      return p === null ? null : files.register(p)
    },
    async uploadFile(name, bytes) {
      return files.saveUpload(v.str('name', name, 500, false), bytesArg('bytes', bytes))
    },
    async listDataFiles() {
      return files.listDataFiles()
    },

    async listDatasets() {
      return s.listDatasets()
    },
    async getDataset(id) {
      return s.getDataset(v.id('id', id))
    },
    async previewImport(fileRef, format) {
      const f = files.resolve(v.str('fileRef', fileRef, 200, false))
      return s.previewImport(
        f.path,
        v.optional(format, (x) => v.str('format', x, 50)),
        f.roots,
      )
    },
    async importDataset(options) {
      const o = v.record('options', options)
      v.onlyKeys('options', o, ['fileRef', 'name', 'format', 'map', 'minRating', 'kcore', 'split', 'seed'])
      const fileRef = v.str('options.fileRef', o.fileRef, 200, false)
      let split: [number, number, number] | undefined
      if (o.split !== undefined) {
        if (!Array.isArray(o.split) || o.split.length !== 3) {
          throw new v.ApiError("argument 'options.split' must be an array of 3 fractions")
        }
        split = o.split.map((x, i) => v.num(`options.split[${i}]`, x, 0, 1)) as [number, number, number]
      }
      const args = {
        name: v.optional(o.name, (x) => v.str('options.name', x, 200)),
        format: v.optional(o.format, (x) => v.str('options.format', x, 50)),
        map: v.optional(o.map, (x) => v.columnMap('options.map', x)),
        minRating: v.optional(o.minRating, (x) => v.num('options.minRating', x)),
        kcore: v.optional(o.kcore, (x) => v.int('options.kcore', x, 0, 1000)),
        split,
        seed: v.optional(o.seed, (x) => v.int('options.seed', x, 0, 2 ** 31 - 1)),
      }
      // Arguments first, then the file: a bad request never touches the disk.
      const f = files.resolve(fileRef)
      // No name given: the file's name, made unique when the import commits.
      return s.importDataset(f.path, { ...args, fallbackName: f.name, allowedRoots: f.roots })
    },
    async cancelImport(jobId) {
      s.cancelImport(v.str('jobId', jobId, 100, false))
    },
    async createDemoDataset(options) {
      const o = v.record('options', options)
      v.onlyKeys('options', o, ['seed', 'users', 'items'])
      const args = {
        seed: v.optional(o.seed, (x) => v.int('options.seed', x, 0, 2 ** 31 - 1)) ?? 1,
        users: v.optional(o.users, (x) => v.int('options.users', x, 2, 100_000)),
        items: v.optional(o.items, (x) => v.int('options.items', x, 2, 100_000)),
      }
      // Generation costs about users x items steps: keep one call to seconds, not minutes.
      if ((args.users ?? 300) * (args.items ?? 120) > DEMO_MAX_CELLS)
        throw new v.ApiError(
          `arguments 'options.users' x 'options.items' must be at most ${DEMO_MAX_CELLS} (a demo of seconds)`,
        )
      return s.createDemoDataset(args)
    },
    async deleteDataset(id) {
      const datasetId = v.id('id', id)
      s.getDataset(datasetId)
      // Its runs go with it: stop the ones still queued or training first.
      for (const r of rd.listRuns()) {
        if (r.datasetId === datasetId && (r.status === 'queued' || r.status === 'running'))
          await runs.cancel(r.id)
      }
      s.deleteDataset(datasetId)
    },
    async restoreDataset(id) {
      s.restoreDataset(v.id('id', id))
    },
    async listUsers(datasetId, query, limit) {
      return s.listUsers(
        v.id('datasetId', datasetId),
        v.str('query', query, 200),
        v.int('limit', limit, 1, MAX_LIST),
      )
    },
    async listItems(datasetId, query, limit) {
      return s.listItems(
        v.id('datasetId', datasetId),
        v.str('query', query, 200),
        v.int('limit', limit, 1, MAX_LIST),
      )
    },

    async listPromptPresets() {
      return s.listPromptPresets()
    },
    async savePromptPreset(name, templates) {
      return s.savePromptPreset(v.str('name', name, 100, false), v.templates('templates', templates))
    },
    async deletePromptPreset(name) {
      s.deletePromptPreset(v.str('name', name, 100, false))
    },
    async checkTemplates(templates, backboneId, datasetId) {
      return e.checkTemplates(
        v.templates('templates', templates),
        v.str('backboneId', backboneId, 500, false),
        v.optional(datasetId, (x) => v.id('datasetId', x)),
      )
    },
    async previewDocument(args) {
      const a = v.record('args', args)
      v.onlyKeys('args', a, ['datasetId', 'backboneId', 'templates', 'kind', 'user', 'item'])
      return e.previewDocument({
        datasetId: v.id('args.datasetId', a.datasetId),
        backboneId: v.str('args.backboneId', a.backboneId, 500, false),
        templates: v.templates('args.templates', a.templates),
        kind: v.oneOf('args.kind', a.kind, kinds),
        user: v.int('args.user', a.user, 0),
        item: v.int('args.item', a.item, 0),
      })
    },

    async listBackbones() {
      return s.backbones.list()
    },
    async pickBackboneFolder() {
      const p = await ctx.dialogs.pickFolder()
      return p === null ? null : s.backbones.add(p)
    },

    async configSchema() {
      return s.configSchema()
    },
    async estimateRun(input) {
      return e.estimateRun(v.runInput('input', input))
    },
    async startRun(input) {
      return { runId: await runs.start(v.runInput('input', input)) }
    },
    async cancelRun(runId) {
      await runs.cancel(v.id('runId', runId))
    },
    async resumeRun(runId) {
      await runs.resume(v.id('runId', runId))
    },
    async deleteRun(runId) {
      await runs.delete(v.id('runId', runId))
    },
    async restoreRun(runId) {
      rd.restoreRun(v.id('runId', runId))
    },
    async updateRun(runId, patch) {
      return rd.updateRun(v.id('runId', runId), v.runMetaPatch('patch', patch))
    },
    async listRuns() {
      return rd.listRuns()
    },
    async getRun(runId) {
      const id = v.id('runId', runId)
      const detail = rd.getRun(id)
      const progress = runs.progress(id)
      return progress ? { ...detail, progress } : detail
    },
    async runMetrics(runId) {
      return rd.runMetrics(v.id('runId', runId))
    },
    async runBaselines(datasetId) {
      return e.runBaselines(v.id('datasetId', datasetId))
    },
    async cancelBaselines(datasetId) {
      e.cancelBaselines(v.id('datasetId', datasetId))
    },
    async results() {
      return rd.results()
    },
    async runBreakdown(runId, split, options) {
      return ctx.breakdowns.run(
        v.id('runId', runId),
        v.oneOf('split', split, v.EVAL_SPLITS),
        v.optional(options, (x) => v.breakdownOptions('options', x)),
      )
    },
    async cancelBreakdown(runId) {
      ctx.breakdowns.cancel(v.id('runId', runId))
    },

    async inspectUser(runId, user, k) {
      return e.inspectUser(v.id('runId', runId), v.int('user', user, 0), v.int('k', k, 1, MAX_K))
    },
    async inspectItem(runId, item, k) {
      return e.inspectItem(v.id('runId', runId), v.int('item', item, 0), v.int('k', k, 1, MAX_K))
    },
    async projection(runId, maxItems) {
      return e.projection(v.id('runId', runId), v.int('maxItems', maxItems, 2, 100_000))
    },
    async generateReview(runId, user, item, maxNewTokens, sampling) {
      return e.generateReview(
        v.id('runId', runId),
        v.int('user', user, 0),
        v.int('item', item, 0),
        v.int('maxNewTokens', maxNewTokens, 1, 512),
        v.optional(sampling, (x) => v.sampling('sampling', x)),
      )
    },
  }
}

// Declared arities: a call with more arguments than the contract takes is rejected.
const ARITY: Partial<Record<ApiMethod, number>> = {
  uploadFile: 2,
  previewImport: 2,
  savePromptPreset: 2,
  checkTemplates: 3,
  listUsers: 3,
  listItems: 3,
  inspectUser: 3,
  inspectItem: 3,
  projection: 2,
  generateReview: 5,
  updateRun: 2,
  runBreakdown: 3,
}
const NO_ARGS: readonly ApiMethod[] = [
  'appInfo',
  'pickFile',
  'listDataFiles',
  'listDatasets',
  'listPromptPresets',
  'listBackbones',
  'pickBackboneFolder',
  'configSchema',
  'listRuns',
  'results',
]

/** How many arguments a method takes (the contract's parameter count). */
export function methodArity(method: ApiMethod): number {
  return ARITY[method] ?? (NO_ARGS.includes(method) ? 0 : 1)
}

/** The single entry point for every host: unknown methods and malformed argument lists are ApiErrors. */
export async function callApi(table: HandlerTable, method: string, args: unknown): Promise<unknown> {
  if (!isApiMethod(method)) throw new v.ApiError(`unknown API method '${method.slice(0, 60)}'`, 404)
  if (!Array.isArray(args)) throw new v.ApiError(`arguments of '${method}' must be a JSON array`)
  v.arity(method, args, methodArity(method))
  const fn = table[method] as (...a: unknown[]) => Promise<unknown>
  return fn(...args)
}

export { API_METHODS }
