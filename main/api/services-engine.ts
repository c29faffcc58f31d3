// Engine-backed calls of the API (template checks, document previews, estimates, baselines and the
// inspection of a trained run). Part of the services adapter; they land as the engine modules do.
import type * as A from '../../preload/api'
import type { Services } from './services'
import { ApiError } from './validate'

function unavailable(what: string): never {
  throw new ApiError(`${what} is not available in this build yet`, 503)
}

export class EngineServices {
  constructor(private readonly s: Services) {}

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
  estimateRun(_input: A.RunInput): A.RunEstimate {
    return unavailable('estimateRun')
  }
  async runBaselines(_datasetId: number): Promise<A.ResultRow[]> {
    return unavailable('runBaselines')
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
  get services(): Services {
    return this.s
  }
}
