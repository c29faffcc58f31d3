// The API contract between the renderer and main: request/response and event types only.
// One method per call. Electron exposes it as `window.api` (preload/index.ts); browser mode serves the
// same methods over HTTP + WebSocket (main/server). Main validates every argument (main/api).

export type BackendName = 'node-gpu' | 'webgpu' | 'node' | 'native' | 'wasm' | 'cpu'
export type DocumentKind = 'collaborative' | 'review' | 'itemText' | 'userText' | 'recommendation'
export type PromptTemplates = Record<DocumentKind, string>
export type RunStatus = 'queued' | 'running' | 'cancelled' | 'failed' | 'done' | 'interrupted'
export type Stage = 'backbone' | 'warmup' | 'collaborative' | 'content' | 'finetune' | 'eval'

export interface AppInfo {
  version: string
  mode: 'electron' | 'browser'
  /** `adapter` names the GPU behind 'webgpu'. */
  backend: { name: BackendName; reason: string; adapter?: string }
  dbPath: string
}

// ---- datasets ----
export interface Histogram {
  /** Bin lower edges; the last bin is open-ended. */
  edges: number[]
  counts: number[]
}
export interface DatasetSummary {
  id: number
  name: string
  synthetic: boolean
  format: string
  users: number
  items: number
  interactions: number
  density: number
  splitProtocol: string
  hash: string
  createdAt: string
}
export interface DatasetStats {
  split: { train: number; val: number; test: number }
  userDegree: Histogram
  itemDegree: Histogram
  textCoverage: { reviews: number; itemTexts: number; userTexts: number }
  textLength: Histogram
}
/** What the import's filters did, in file order: dedup, rating threshold, k-core. */
export interface ImportReport {
  rawRows: number
  rawUsers: number
  rawItems: number
  duplicateRows: number
  belowThreshold: number
  kcoreRemoved: number
  keptRows: number
  minRating: number | null
  kcore: number | null
}
export interface DatasetDetail extends DatasetSummary {
  stats: DatasetStats
  /** Absent for datasets not imported from a file (demo). */
  importReport?: ImportReport
  /** Plain-language warnings, e.g. a dataset so small that Recall@20 is trivial. */
  warnings: string[]
}
export interface ColumnMap {
  user: string
  item: string
  rating?: string
  timestamp?: string
  text?: string
}
/** A file the user chose (native dialog, upload or allow-listed folder); never a raw path from the renderer. */
export interface FileRef {
  fileRef: string
  name: string
  size: number
}
export interface ImportPreview {
  format: string
  columns: string[]
  rows: string[][]
  suggestedMap?: ColumnMap
}
export interface ImportOptions {
  fileRef: string
  name?: string
  format?: string
  map?: ColumnMap
  minRating?: number
  kcore?: number
  split?: [number, number, number]
  seed?: number
}
export interface DemoOptions {
  seed?: number
  users?: number
  items?: number
}
export interface UserRef {
  user: number
  id: string
  nTrain: number
}
export interface ItemRef {
  item: number
  id: string
  text: string | null
}
export interface ScoredItem extends ItemRef {
  score: number
  /** True when the item is in the user's held-out test set. */
  hit?: boolean
}

// ---- prompts ----
export interface PromptPreset {
  name: string
  builtin: boolean
  templates: PromptTemplates
}
export interface TemplateCheck {
  kind: DocumentKind
  ok: boolean
  errors: string[]
  hardTokenCount: number
}
export interface PreviewToken {
  id: number
  piece: string
  role: 'soft' | 'hard' | 'main'
}
export interface DocumentPreview {
  kind: DocumentKind
  tokens: PreviewToken[]
  promptTokens: number
  mainTokens: number
  truncated: boolean
  errors: string[]
}
export interface BackboneInfo {
  id: string
  label: string
  kind: 'scratch' | 'hf'
  nEmbd?: number
  nLayer?: number
  vocabSize?: number
}

// ---- runs ----
export interface ConfigField {
  key: string
  type: 'number' | 'integer' | 'boolean' | 'string' | 'enum'
  default: unknown
  help: string
  options?: string[]
  min?: number
  max?: number
}
/** The training form's fields and presets, and the limits of settings outside it. */
export interface ConfigSchema {
  fields: ConfigField[]
  presets: Record<string, Record<string, unknown>>
  /** Mult-VAE's epochs where a call takes them (a run's breakdown): the default and the largest allowed. */
  multVaeEpochs: { default: number; max: number }
}
export interface RunInput {
  datasetId: number
  name?: string
  preset: 'paper' | 'official' | 'fast'
  overrides: Record<string, unknown>
  templates: PromptTemplates
  backboneId: string
  seed: number
  /** The sweep this run belongs to (set by `cli sweep`; Results groups a sweep's runs). */
  sweep?: string
}
export interface RunEstimate {
  trainableParams: number
  memoryMB: number
  documentsPerEpoch: number
  note: string
}
export interface Metrics {
  recall20: number
  recall40: number
  ndcg100: number
}
export interface RunSummary {
  id: number
  name: string
  datasetId: number
  datasetName: string
  backbone: string
  backend: string
  status: RunStatus
  protocol: string
  test?: Metrics
  /** Best validation metrics (model selection), when the run validated. */
  val?: Metrics
  durationSec: number
  createdAt: string
  seed: number
  /** The sweep the run belongs to, else null. */
  sweep: string | null
  tags: string[]
  notes: string
}
export interface RunMetaPatch {
  name?: string
  tags?: string[]
  notes?: string
}
export interface RunDetail extends RunSummary {
  config: Record<string, unknown>
  templates: PromptTemplates
  seed: number
  dataHash: string
  error?: string
  progress?: RunProgress
}
export interface MetricPoint {
  stage: Stage
  step: number
  epoch: number
  name: string
  value: number
  /** When main stored it (Unix ms): the charts' wall-clock axis. */
  atMs?: number
}
export interface ResultRow {
  kind: 'run' | 'baseline'
  runId?: number
  /** Runs only: the tracker's fields and what reproduces the run. */
  runName?: string
  sweep?: string | null
  tags?: string[]
  seed?: number
  /** Best validation (the epoch model selection kept) and the last validation logged. */
  val?: Metrics
  lastVal?: Metrics
  model: string
  datasetId: number
  datasetName: string
  backbone: string
  protocol: string
  test: Metrics
  durationSec: number
}

// ---- breakdown ----
/** The held-out split a run is scored on: test, or validation (what model selection saw). */
export type EvalSplit = 'test' | 'val'
export interface BreakdownOptions {
  /** Also fit Mult-VAE (best epoch on validation): the slow part, off by default. */
  multVae?: boolean
  /** Mult-VAE's epochs (default 200, Liang et al.'s); only with multVae. */
  multVaeEpochs?: number
}
export interface BreakdownGroup {
  /** 'all', then e.g. '1–3' training items (history) or '0–2' training interactions (popularity). */
  group: string
  /** Users (history) or held-out items (popularity) in the group. */
  count: number
  /**
   * Per model name: Recall@20 (history) or the share of held-out items in the top 20 (popularity);
   * null for an empty group.
   */
  values: Record<string, number | null>
}
export interface BreakdownModel {
  name: string
  /** CLLM4Rec: which tables were scored; EASE: its λ; Mult-VAE: its epochs. */
  setting: string
}
/** A finished run and the baselines by user history length and held-out item popularity (`cli breakdown`). */
export interface RunBreakdown {
  runId: number
  datasetName: string
  split: EvalSplit
  /** The split protocol label, as the CLI prints it. */
  protocol: string
  /** True where the run's best validation epoch was scored (model selection); false: its last tables. */
  validationSelected: boolean
  models: BreakdownModel[]
  /** Recall@20 by the user's number of training items; the first row, 'all', is the evaluator's Recall@20. */
  history: BreakdownGroup[]
  /** Share of held-out items in their user's top 20, by the item's number of training interactions. */
  popularity: BreakdownGroup[]
  durationSec: number
}

// ---- inspect ----
export interface UserInspection {
  user: UserRef
  history: ItemRef[]
  recCollaborative: ScoredItem[]
  recContent: ScoredItem[]
  heldOut: ItemRef[]
}
export interface ItemInspection {
  item: ItemRef
  neighborsCollaborative: ScoredItem[]
  neighborsContent: ScoredItem[]
  /** ||z^l - z^c|| for this item. */
  distance: number
  /** The item's own reviews in the dataset (the first few), with the real user id. */
  reviews: { user: number; userId: string; text: string }[]
}
export interface ProjectionPoint {
  item: number
  id: string
  collaborative: [number, number]
  content: [number, number]
  distance: number
}
export interface Projection {
  points: ProjectionPoint[]
  explainedVariance: { collaborative: [number, number]; content: [number, number] }
}

export interface Sampling {
  /** > 0; lower is sharper. */
  temperature: number
  /** Only the k most likely tokens (0 = all). */
  topK: number
  seed: number
}

// ---- events (main -> renderer) ----
export interface RunProgress {
  runId: number
  stage: Stage
  epoch: number
  step: number
  totalSteps: number
  fraction: number
  loss: number
  tokensPerSec: number
  etaSec: number
}
export type AppEvent =
  | ({ type: 'run.progress' } & RunProgress)
  | { type: 'run.metric'; runId: number; point: MetricPoint }
  | { type: 'run.status'; runId: number; status: RunStatus; error?: string }
  | {
      type: 'import.progress'
      jobId: string
      fraction: number
      rowsPerSec: number
      etaSec: number
      message: string
    }
  | {
      /** One per EASE λ and Mult-VAE epoch; fraction is of that stage, etaSec null before Mult-VAE. */
      type: 'baselines.progress'
      datasetId: number
      stage: string
      fraction: number
      etaSec: number | null
      message: string
    }
  | {
      /** How a baselines call ended, for every window (one that reloaded meanwhile too). */
      type: 'baselines.status'
      datasetId: number
      status: 'done' | 'cancelled' | 'failed'
      error?: string
    }
  | {
      /** Loading, EASE per λ, Mult-VAE per epoch, scoring; etaSec is the stage's (null for EASE). */
      type: 'breakdown.progress'
      runId: number
      stage: string
      fraction: number
      etaSec: number | null
      message: string
    }
  | {
      /** How a breakdown call ended, for every window; a done one carries the breakdown. */
      type: 'breakdown.status'
      runId: number
      status: 'done' | 'cancelled' | 'failed'
      error?: string
      breakdown?: RunBreakdown
    }

/** Every call the renderer can make. Names are the IPC channels and the HTTP routes (`POST /api/<name>`). */
export interface WorkbenchApi {
  appInfo(): Promise<AppInfo>

  // files: Electron shows a native dialog; browser mode uploads the bytes.
  pickFile(): Promise<FileRef | null>
  uploadFile(name: string, bytes: ArrayBuffer): Promise<FileRef>
  /** Files under the folders allow-listed at start (`serve --data DIR`); empty when none were given. */
  listDataFiles(): Promise<FileRef[]>

  listDatasets(): Promise<DatasetSummary[]>
  getDataset(id: number): Promise<DatasetDetail>
  previewImport(fileRef: string, format?: string): Promise<ImportPreview>
  /** warnings: accepted but suspicious input (negative ratings, duplicate header columns). */
  importDataset(options: ImportOptions): Promise<{ jobId: string; datasetId: number; warnings: string[] }>
  cancelImport(jobId: string): Promise<void>
  createDemoDataset(options: DemoOptions): Promise<DatasetSummary>
  /** Moves the dataset (and its runs) to the trash; restoreDataset undoes it. */
  deleteDataset(id: number): Promise<void>
  restoreDataset(id: number): Promise<void>
  listUsers(datasetId: number, query: string, limit: number): Promise<UserRef[]>
  listItems(datasetId: number, query: string, limit: number): Promise<ItemRef[]>

  listPromptPresets(): Promise<PromptPreset[]>
  savePromptPreset(name: string, templates: PromptTemplates): Promise<PromptPreset>
  deletePromptPreset(name: string): Promise<void>
  /** datasetId lets the scratch backbone count tokens with the BPE it will learn on that dataset. */
  checkTemplates(templates: PromptTemplates, backboneId: string, datasetId?: number): Promise<TemplateCheck[]>
  previewDocument(args: {
    datasetId: number
    backboneId: string
    templates: PromptTemplates
    kind: DocumentKind
    user: number
    item: number
  }): Promise<DocumentPreview>

  listBackbones(): Promise<BackboneInfo[]>
  pickBackboneFolder(): Promise<BackboneInfo | null>

  configSchema(): Promise<ConfigSchema>
  estimateRun(input: RunInput): Promise<RunEstimate>
  startRun(input: RunInput): Promise<{ runId: number }>
  cancelRun(runId: number): Promise<void>
  resumeRun(runId: number): Promise<void>
  /** Moves the run to the trash; restoreRun undoes it. */
  deleteRun(runId: number): Promise<void>
  restoreRun(runId: number): Promise<void>
  updateRun(runId: number, patch: RunMetaPatch): Promise<RunSummary>
  listRuns(): Promise<RunSummary[]>
  getRun(runId: number): Promise<RunDetail>
  runMetrics(runId: number): Promise<MetricPoint[]>
  /** Popularity, EASE and Mult-VAE (200 epochs); 'baselines.progress' events; rejects 409 when cancelled. */
  runBaselines(datasetId: number): Promise<ResultRow[]>
  cancelBaselines(datasetId: number): Promise<void>
  results(): Promise<ResultRow[]>
  /**
   * A finished CLLM4Rec run beside popularity and EASE (and Mult-VAE when asked) by user history length and
   * held-out item popularity; 'breakdown.progress' events; nothing stored; rejects 409 when cancelled.
   */
  runBreakdown(runId: number, split: EvalSplit, options?: BreakdownOptions): Promise<RunBreakdown>
  cancelBreakdown(runId: number): Promise<void>

  inspectUser(runId: number, user: number, k: number): Promise<UserInspection>
  inspectItem(runId: number, item: number, k: number): Promise<ItemInspection>
  projection(runId: number, maxItems: number): Promise<Projection>
  /** Greedy without `sampling`; else temperature / top-k sampling from `seed` (same seed, same text). */
  generateReview(
    runId: number,
    user: number,
    item: number,
    maxNewTokens: number,
    sampling?: Sampling,
  ): Promise<{ prompt: string; text: string }>

  /** Subscribe to events; returns an unsubscribe function. */
  onEvent(listener: (event: AppEvent) => void): () => void
}
