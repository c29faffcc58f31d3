// Preload (sandboxed): exposes `window.api` with ONE explicit method per API call, each a single
// ipcRenderer.invoke on the channel of the same name, plus onEvent. Nothing else of Electron leaks
// into the page. Sandboxed preloads get Electron's limited `require`, hence no import statement here.
import type { AppEvent, WorkbenchApi } from './api'

interface PreloadElectron {
  contextBridge: { exposeInMainWorld(key: string, api: unknown): void }
  ipcRenderer: {
    invoke(channel: string, ...args: unknown[]): Promise<unknown>
    on(channel: string, listener: (event: unknown, payload: unknown) => void): void
    removeListener(channel: string, listener: (event: unknown, payload: unknown) => void): void
  }
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- sandboxed preloads only have require
const { contextBridge, ipcRenderer } = require('electron') as PreloadElectron

/** Main -> renderer event channel (kept apart from the method channels). */
const EVENT_CHANNEL = 'workbench:event'

type Api = Omit<WorkbenchApi, 'onEvent'>
const call =
  <M extends keyof Api>(method: M) =>
  (...args: Parameters<Api[M]>): ReturnType<Api[M]> =>
    ipcRenderer.invoke(method, ...args) as ReturnType<Api[M]>

const api: WorkbenchApi = {
  appInfo: call('appInfo'),
  pickFile: call('pickFile'),
  uploadFile: call('uploadFile'),
  listDataFiles: call('listDataFiles'),
  listDatasets: call('listDatasets'),
  getDataset: call('getDataset'),
  previewImport: call('previewImport'),
  importDataset: call('importDataset'),
  cancelImport: call('cancelImport'),
  createDemoDataset: call('createDemoDataset'),
  deleteDataset: call('deleteDataset'),
  restoreDataset: call('restoreDataset'),
  listUsers: call('listUsers'),
  listItems: call('listItems'),
  listPromptPresets: call('listPromptPresets'),
  savePromptPreset: call('savePromptPreset'),
  deletePromptPreset: call('deletePromptPreset'),
  checkTemplates: call('checkTemplates'),
  previewDocument: call('previewDocument'),
  listBackbones: call('listBackbones'),
  pickBackboneFolder: call('pickBackboneFolder'),
  configSchema: call('configSchema'),
  estimateRun: call('estimateRun'),
  startRun: call('startRun'),
  cancelRun: call('cancelRun'),
  resumeRun: call('resumeRun'),
  deleteRun: call('deleteRun'),
  restoreRun: call('restoreRun'),
  updateRun: call('updateRun'),
  listRuns: call('listRuns'),
  getRun: call('getRun'),
  runMetrics: call('runMetrics'),
  runBaselines: call('runBaselines'),
  cancelBaselines: call('cancelBaselines'),
  results: call('results'),
  runBreakdown: call('runBreakdown'),
  cancelBreakdown: call('cancelBreakdown'),
  inspectUser: call('inspectUser'),
  inspectItem: call('inspectItem'),
  projection: call('projection'),
  generateReview: call('generateReview'),
  onEvent(listener: (event: AppEvent) => void): () => void {
    // The wrapper drops Electron's event object: the page only ever sees the AppEvent payload.
    const relay = (_e: unknown, payload: unknown): void => listener(payload as AppEvent)
    ipcRenderer.on(EVENT_CHANNEL, relay)
    return () => ipcRenderer.removeListener(EVENT_CHANNEL, relay)
  },
}

contextBridge.exposeInMainWorld('api', api)
