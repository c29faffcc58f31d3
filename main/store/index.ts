// Public surface of the store: open the database, then use the repositories.
export { openStore, resolveDbPath, appDataDir, SCHEMA_VERSION, StoreError, type Store } from './db'
export * from './datasets-repo'
export * from './runs-repo'
export * from './checkpoints-repo'
export * from './recommendations-repo'
export * from './prompt-templates-repo'
export { importDataset, type ImportDatasetOptions, type ImportDatasetResult } from './import-dataset'
export { BusyError, retryBusy, isBusyError, DEFAULT_BUSY_POLICY, type BusyPolicy } from './busy'
