// The ONE adapter between the API and the other layers (store, data, engine). Every call into those
// modules goes through here, so a change in their signatures is fixed in this file only.
import type * as A from '../../preload/api'
import type { RecDataset } from '../data/types'
import os from 'node:os'
import path from 'node:path'
import type { EventBus } from './events'
import type { FileAccess } from './files'
import { ApiError } from './validate'

export interface ImportArgs {
  name: string
  format?: string
  map?: A.ColumnMap
  minRating?: number
  kcore?: number
  split?: [number, number, number]
  seed?: number
}

function unavailable(what: string): never {
  throw new ApiError(`${what} is not available in this build yet`, 503)
}

export interface ServicesOptions {
  dbPath: string
  bus: EventBus
  files: FileAccess
}

/** CLLM4REC_DB, else the per-user app-data folder (Electron passes app.getPath('userData')). */
export function defaultDbPath(appDataDir?: string): string {
  if (process.env.CLLM4REC_DB) return path.resolve(process.env.CLLM4REC_DB)
  const base =
    appDataDir ??
    (process.platform === 'win32'
      ? path.join(process.env.APPDATA ?? os.homedir(), 'cllm4rec-workbench')
      : process.platform === 'darwin'
        ? path.join(os.homedir(), 'Library', 'Application Support', 'cllm4rec-workbench')
        : path.join(
            process.env.XDG_DATA_HOME ?? path.join(os.homedir(), '.local', 'share'),
            'cllm4rec-workbench',
          ))
  return path.join(base, 'workbench.db')
}

/** Worker side: opens the SQLite file read-only-ish and loads one dataset (never called on main). */
export async function loadDatasetFromDb(_dbPath: string, _datasetId: number): Promise<RecDataset> {
  return unavailable('loading a dataset from the database')
}

export class Services {
  readonly dbPath: string
  private readonly bus: EventBus
  private readonly files: FileAccess

  constructor(options: ServicesOptions) {
    this.dbPath = options.dbPath
    this.bus = options.bus
    this.files = options.files
  }

  async backend(): Promise<A.AppInfo['backend']> {
    const { initBackend } = await import('../engine/backend')
    const info = await initBackend('auto')
    return { name: info.name, reason: info.reason }
  }

  listDatasets(): A.DatasetSummary[] {
    return unavailable('listDatasets')
  }
  getDataset(_id: number): A.DatasetDetail {
    return unavailable('getDataset')
  }
  async previewImport(_path: string, _format?: string): Promise<A.ImportPreview> {
    return unavailable('previewImport')
  }
  async importDataset(_path: string, _o: ImportArgs): Promise<{ jobId: string; datasetId: number }> {
    return unavailable('importDataset')
  }
  cancelImport(_jobId: string): void {
    unavailable('cancelImport')
  }
  async createDemoDataset(_o: { seed: number; users?: number; items?: number }): Promise<A.DatasetSummary> {
    return unavailable('createDemoDataset')
  }
  deleteDataset(_id: number): void {
    unavailable('deleteDataset')
  }
  listUsers(_datasetId: number, _query: string, _limit: number): A.UserRef[] {
    return unavailable('listUsers')
  }
  listItems(_datasetId: number, _query: string, _limit: number): A.ItemRef[] {
    return unavailable('listItems')
  }
  listPromptPresets(): A.PromptPreset[] {
    return unavailable('listPromptPresets')
  }
  savePromptPreset(_name: string, _t: A.PromptTemplates): A.PromptPreset {
    return unavailable('savePromptPreset')
  }
  deletePromptPreset(_name: string): void {
    unavailable('deletePromptPreset')
  }
  async checkTemplates(_t: A.PromptTemplates, _backboneId: string): Promise<A.TemplateCheck[]> {
    return unavailable('checkTemplates')
  }
  async previewDocument(_a: {
    datasetId: number
    backboneId: string
    templates: A.PromptTemplates
    kind: A.DocumentKind
    user: number
    item: number
  }): Promise<A.DocumentPreview> {
    return unavailable('previewDocument')
  }
  listBackbones(): A.BackboneInfo[] {
    return unavailable('listBackbones')
  }
  addBackboneFolder(_dir: string): A.BackboneInfo {
    return unavailable('addBackboneFolder')
  }
  configSchema(): { fields: A.ConfigField[]; presets: Record<string, Record<string, unknown>> } {
    return unavailable('configSchema')
  }
  estimateRun(_input: A.RunInput): A.RunEstimate {
    return unavailable('estimateRun')
  }
  listRuns(): A.RunSummary[] {
    return unavailable('listRuns')
  }
  getRun(_runId: number): A.RunDetail {
    return unavailable('getRun')
  }
  runMetrics(_runId: number): A.MetricPoint[] {
    return unavailable('runMetrics')
  }
  async runBaselines(_datasetId: number): Promise<A.ResultRow[]> {
    return unavailable('runBaselines')
  }
  results(): A.ResultRow[] {
    return unavailable('results')
  }
  async inspectUser(_runId: number, _user: number, _k: number): Promise<A.UserInspection> {
    return unavailable('inspectUser')
  }
  async inspectItem(_runId: number, _item: number, _k: number): Promise<A.ItemInspection> {
    return unavailable('inspectItem')
  }
  async projection(_runId: number, _maxItems: number): Promise<A.Projection> {
    return unavailable('projection')
  }
  async generateReview(
    _runId: number,
    _user: number,
    _item: number,
    _n: number,
  ): Promise<{ prompt: string; text: string }> {
    return unavailable('generateReview')
  }
  close(): void {}
}
