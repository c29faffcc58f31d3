// The list of API method names, checked against the contract at compile time so that the handler table,
// the IPC channels, the HTTP routes and the preload bridge cannot drift apart.
import type { WorkbenchApi } from '../../preload/api'

export type ApiMethod = Exclude<keyof WorkbenchApi, 'onEvent'>

// A Record over ApiMethod: adding a method to the contract fails to compile until it is listed here.
const METHODS: Record<ApiMethod, true> = {
  appInfo: true,
  pickFile: true,
  uploadFile: true,
  listDataFiles: true,
  listDatasets: true,
  getDataset: true,
  previewImport: true,
  importDataset: true,
  cancelImport: true,
  createDemoDataset: true,
  deleteDataset: true,
  restoreDataset: true,
  listUsers: true,
  listItems: true,
  listPromptPresets: true,
  savePromptPreset: true,
  deletePromptPreset: true,
  checkTemplates: true,
  previewDocument: true,
  listBackbones: true,
  pickBackboneFolder: true,
  configSchema: true,
  estimateRun: true,
  startRun: true,
  cancelRun: true,
  resumeRun: true,
  deleteRun: true,
  restoreRun: true,
  updateRun: true,
  listRuns: true,
  getRun: true,
  runMetrics: true,
  runBaselines: true,
  cancelBaselines: true,
  results: true,
  runBreakdown: true,
  cancelBreakdown: true,
  inspectUser: true,
  inspectItem: true,
  projection: true,
  generateReview: true,
}

export const API_METHODS = Object.keys(METHODS) as readonly ApiMethod[]

export function isApiMethod(name: string): name is ApiMethod {
  return Object.prototype.hasOwnProperty.call(METHODS, name)
}
