// Engine-backed calls of the API (template checks, document previews, estimates, baselines and the
// inspection of a trained run). Part of the services adapter: tensor work goes to the engine worker;
// this file only picks inputs (folders, run ids) and stores results.
import type * as A from '../../preload/api'
import { DEFAULT_CONFIG, scaledEpochs, type Cllm4recConfig } from '../engine/cllm4rec/config'
import { readHfConfig } from '../engine/gpt2/config'
import * as store from '../store'
import type { BaselineProgress } from '../worker/engine-ops'
import { CancelFlags, runInJobWorker } from './services-jobs'
import type { Services } from './services'
import type { RunServices } from './services-runs'
import { ApiError } from './validate'
import path from 'node:path'

export class EngineServices {
  constructor(
    private readonly s: Services,
    private readonly runs: RunServices,
  ) {}

  /**
   * The tokenizer folder of an HF backbone; null for the scratch backbone, whose BPE the engine worker
   * learns from the dataset's text and the templates being edited, exactly as the next run will.
   */
  private tokenizerDir(backboneId: string): string | null {
    const dir = this.s.backbones.dir(backboneId)
    return dir === 'scratch' ? null : dir
  }

  async checkTemplates(
    t: A.PromptTemplates,
    backboneId: string,
    datasetId?: number,
  ): Promise<A.TemplateCheck[]> {
    if (datasetId !== undefined) this.s.getDataset(datasetId)
    return this.s.engine.call({
      op: 'checkTemplates',
      templates: t,
      tokenizerDir: this.tokenizerDir(backboneId),
      dbPath: this.s.dbPath,
      datasetId: datasetId ?? null,
    })
  }

  async previewDocument(a: {
    datasetId: number
    backboneId: string
    templates: A.PromptTemplates
    kind: A.DocumentKind
    user: number
    item: number
  }): Promise<A.DocumentPreview> {
    this.s.getDataset(a.datasetId)
    const dir = this.tokenizerDir(a.backboneId)
    return this.s.engine.call({
      op: 'previewDocument',
      dbPath: this.s.dbPath,
      tokenizerDir: dir,
      ...a,
      maxLength: DEFAULT_CONFIG.maxLength,
    })
  }

  estimateRun(input: A.RunInput): A.RunEstimate {
    const ds = this.s.getDataset(input.datasetId)
    const c = this.runs.resolve(input).resolved as unknown as Cllm4recConfig
    let width = c.scratch.width
    let backboneParams = c.scratch.layers * 12 * width * width + c.scratch.vocabSize * width
    if (c.backbone !== 'scratch') {
      const hf = readHfConfig(path.join(c.backbone, 'config.json'))
      width = hf.nEmbd
      backboneParams = hf.nLayer * 12 * hf.nEmbd * hf.nEmbd + (hf.vocabSize + hf.nPositions) * hf.nEmbd
    }
    // Two embedding sets (collaborative z^l, content z^c) for every user and item; the backbone is frozen.
    const trainableParams = 2 * (ds.users + ds.items) * width
    // Weights + two Adam moments per trainable value, one optimizer per side, plus the frozen backbone.
    const memoryMB = Math.ceil(((trainableParams * 3 + backboneParams) * 4) / 2 ** 20)
    const cov = ds.stats.textCoverage
    const contentDocs =
      (c.useReviews ? Math.round(cov.reviews * ds.interactions) : 0) +
      (c.useItemTexts ? Math.round(cov.itemTexts * ds.items) : 0) +
      (c.useUserTexts ? Math.round(cov.userTexts * ds.users) : 0)
    const e = scaledEpochs(c)
    return {
      trainableParams,
      memoryMB,
      documentsPerEpoch: ds.users + contentDocs,
      note:
        `${ds.users} collaborative + ${contentDocs} content documents per epoch; schedule: ${e.warmup} warm-up, ` +
        `${e.rounds} rounds, ${e.finetune} finetuning epochs` +
        (c.backbone === 'scratch'
          ? `; the scratch backbone is trained first (${c.scratch.epochs} epochs)`
          : ''),
    }
  }

  /** Running baseline calls by dataset. */
  private readonly baselineJobs = new CancelFlags()

  /**
   * Popularity, EASE and Mult-VAE on the dataset's split, in a one-off worker (Mult-VAE's 200 epochs
   * take most of an hour on Beauty): 'baselines.progress' events per EASE λ and Mult-VAE epoch, cancel
   * through cancelBaselines, and nothing stored unless every baseline finished.
   */
  async runBaselines(datasetId: number): Promise<A.ResultRow[]> {
    const ds = this.s.getDataset(datasetId)
    const cancelFlag = this.baselineJobs.open(
      datasetId,
      `baselines on dataset ${datasetId} are already running`,
    )
    let rows: { model: string; test: A.Metrics; durationSec: number }[]
    try {
      rows = await runInJobWorker(
        this.s.jobHeapMb,
        `baselines on dataset ${ds.name}`,
        { op: 'baselines', dbPath: this.s.dbPath, datasetId, cancelFlag },
        (raw) => {
          const p = raw as BaselineProgress
          const unit = p.stage === 'EASE' ? 'λ values' : 'epochs'
          this.s.bus.emit({
            type: 'baselines.progress',
            datasetId,
            stage: p.stage,
            fraction: p.step / p.totalSteps,
            etaSec: p.etaSec,
            message: `${p.stage}: ${p.step}/${p.totalSteps} ${unit}`,
          })
        },
      )
    } catch (err) {
      const cancelled = this.baselineJobs.cancelled(datasetId)
      const e = cancelled
        ? new ApiError(`baselines on dataset ${datasetId} cancelled; nothing was stored`, 409)
        : err
      this.s.bus.emit({
        type: 'baselines.status',
        datasetId,
        status: cancelled ? 'cancelled' : 'failed',
        error: e instanceof Error ? e.message : String(e),
      })
      throw e
    } finally {
      this.baselineJobs.close(datasetId)
    }
    const evals: store.Evaluation[] = []
    for (const r of rows) {
      for (const [metric, value] of Object.entries({ ...r.test, durationSec: r.durationSec })) {
        evals.push({ baseline: r.model, datasetId, split: 'test', protocol: ds.splitProtocol, metric, value })
      }
    }
    store.addEvaluations(this.s.db, evals)
    this.s.bus.emit({ type: 'baselines.status', datasetId, status: 'done' })
    return rows.map((r) => ({
      kind: 'baseline',
      model: r.model,
      datasetId,
      datasetName: ds.name,
      backbone: '-',
      protocol: ds.splitProtocol,
      test: r.test,
      durationSec: r.durationSec,
    }))
  }

  cancelBaselines(datasetId: number): void {
    this.baselineJobs.cancel(datasetId, `no baselines running on dataset ${datasetId}`)
  }

  private finished(runId: number): void {
    const status = this.runs.statusOf(runId)
    if (status !== 'done')
      throw new ApiError(`run ${runId} is '${status}': only finished runs can be inspected`, 409)
  }

  async inspectUser(runId: number, user: number, k: number): Promise<A.UserInspection> {
    this.finished(runId)
    return this.s.engine.call({ op: 'inspectUser', dbPath: this.s.dbPath, runId, user, k })
  }
  async inspectItem(runId: number, item: number, k: number): Promise<A.ItemInspection> {
    this.finished(runId)
    return this.s.engine.call({ op: 'inspectItem', dbPath: this.s.dbPath, runId, item, k })
  }
  async projection(runId: number, maxItems: number): Promise<A.Projection> {
    this.finished(runId)
    return this.s.engine.call({ op: 'projection', dbPath: this.s.dbPath, runId, maxItems })
  }
  async generateReview(
    runId: number,
    user: number,
    item: number,
    n: number,
    sampling?: A.Sampling,
  ): Promise<{ prompt: string; text: string }> {
    this.finished(runId)
    return this.s.engine.call({
      op: 'generateReview',
      dbPath: this.s.dbPath,
      runId,
      user,
      item,
      maxNewTokens: n,
      ...(sampling ? { sampling } : {}),
    })
  }

  close(): Promise<void> {
    this.baselineJobs.cancelAll()
    return this.s.engine.close()
  }
}
