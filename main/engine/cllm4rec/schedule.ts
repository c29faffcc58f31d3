// The CLLM4Rec schedule as a flat list of epoch tasks (CLLM4REC.md §5, §6), and the clock that turns it
// into whole-run progress: ETA and overall fraction from measured seconds per token, covering the scratch
// backbone, the warm-up (from its first batch) and every later epoch, also after a resume.
import type { RecDataset } from '../../data/types'
import { scaledEpochs, type Cllm4recConfig } from './config'

export type TaskKind = 'content' | 'collab' | 'rec'
export interface EpochTask {
  /** Schedule phase (optimizer choice, checkpoint stage, log lines). */
  stage: 'warmup' | 'pretrain' | 'finetune'
  kind: TaskKind
  /** Epoch within the phase. */
  epoch: number
  validate: boolean
  /**
   * The loss series this epoch belongs to, as onProgress reports it (`<stage>:<kind>` + epoch). One series
   * = one loss: the C-epochs that alternate with RecLLM during finetuning optimise the same content-LLM
   * loss as the pretraining C-epochs, so they continue that series ('pretrain:content', epoch counter
   * continuing after the rounds) and 'finetune:rec' carries the RecLLM loss only.
   */
  series: { stage: string; epoch: number }
}

/** The whole schedule as epoch tasks. */
export function planTasks(c: Cllm4recConfig): EpochTask[] {
  const e = scaledEpochs(c)
  const tasks: EpochTask[] = []
  const add = (
    stage: EpochTask['stage'],
    kind: TaskKind,
    epoch: number,
    validate: boolean,
    series: string,
    seriesEpoch: number,
  ) => tasks.push({ stage, kind, epoch, validate, series: { stage: series, epoch: seriesEpoch } })
  for (let i = 0; i < e.warmup; i++) add('warmup', 'content', i, false, 'warmup:content', i)
  // Per-stage schedules: k L-epochs per round, and a finetuning C-epoch after every m RecLLM epochs.
  let collab = 0
  for (let i = 0; i < e.rounds; i++) {
    for (let k = 0; k < c.collabEpochsPerRound; k++, collab++)
      add('pretrain', 'collab', collab, false, 'pretrain:collab', collab)
    add('pretrain', 'content', i, false, 'pretrain:content', i)
  }
  let contentFt = 0
  for (let i = 0; i < e.finetune; i++) {
    const validate = (i + 1) % c.evalEvery === 0 || i === e.finetune - 1
    const withContent =
      c.finetuneContent && ((i + 1) % c.recEpochsPerContentEpoch === 0 || i === e.finetune - 1)
    add('finetune', 'rec', i, validate && !withContent, 'finetune:rec', i)
    if (withContent) {
      add('finetune', 'content', contentFt, validate, 'pretrain:content', e.rounds + contentFt)
      contentFt++
    }
  }
  return tasks
}

/** What the running task has done so far. */
export interface Running {
  kind: TaskKind
  tokens: number
  sec: number
}

export class RunClock {
  private readonly start = performance.now()
  private readonly secPerToken: Record<TaskKind, number | null> = { content: null, collab: null, rec: null }
  private readonly collabTokens: number
  private readonly hasText: boolean
  /** Tokens of one content epoch, known once the content documents are built. */
  contentTokens = 0
  /** First task run by this process (tasks before it were done before a resume). */
  startTask = 0

  constructor(
    private readonly tasks: EpochTask[],
    data: RecDataset,
    private readonly scratchEpochs: number,
  ) {
    // Interaction documents: the items plus a few prompt tokens per user (collab and rec epochs alike).
    this.collabTokens = data.train.reduce((s, items) => s + items.length + 6, 0)
    this.hasText = data.reviews.length > 0 || data.itemTexts.some((t) => t) || data.userTexts.some((t) => t)
  }

  elapsedSec(): number {
    return (performance.now() - this.start) / 1000
  }

  /** A task finished: its kind's seconds per token. */
  record(kind: TaskKind, tokens: number, sec: number): void {
    if (tokens > 0) this.secPerToken[kind] = sec / tokens
  }

  /**
   * Whole-run ETA and fraction while the scratch backbone trains. CLLM4Rec has timed nothing yet, so its
   * epochs are costed at the backbone's seconds per token (same network, forward + backward): a content
   * epoch reads about the texts one backbone epoch reads, collab and rec epochs the interaction documents.
   */
  duringBackbone(backboneEtaSec: number, tokensPerSec: number): { etaSec: number; fraction?: number } {
    const el = this.elapsedSec()
    const textPerEpoch = (tokensPerSec * (el + backboneEtaSec)) / Math.max(1, this.scratchEpochs)
    const planTokens =
      (this.hasText ? this.epochsOf('content') * textPerEpoch : 0) +
      (this.epochsOf('collab') + this.epochsOf('rec')) * this.collabTokens
    const eta = backboneEtaSec + planTokens / tokensPerSec
    if (!Number.isFinite(eta)) return { etaSec: backboneEtaSec }
    return { etaSec: eta, fraction: el / Math.max(1e-9, el + eta) }
  }

  /** ETA and overall fraction during task `from` (elapsed time includes the backbone and setup). */
  at(from: number, cur: Running): { etaSec: number; fraction: number } {
    const tokensOf = (k: TaskKind) => (k === 'content' ? this.contentTokens : this.collabTokens)
    let eta =
      Math.max(0, tokensOf(this.tasks[from].kind) - cur.tokens) * this.rate(this.tasks[from].kind, cur)
    for (let i = from + 1; i < this.tasks.length; i++)
      eta += tokensOf(this.tasks[i].kind) * this.rate(this.tasks[i].kind, cur)
    // Tasks finished before a resume were not timed by this process: cost them at today's rates.
    let prior = 0
    for (let i = 0; i < this.startTask; i++)
      prior += tokensOf(this.tasks[i].kind) * this.rate(this.tasks[i].kind, cur)
    const done = this.elapsedSec() + prior
    return { etaSec: eta, fraction: Math.min(1, Math.max(0, done / Math.max(1e-9, done + eta))) }
  }

  private epochsOf(k: TaskKind): number {
    return this.tasks.filter((t) => t.kind === k).length
  }

  /**
   * Seconds per token of a kind: measured once an epoch of it finished; before that the running task's
   * own speed (so the ETA is finite from the first batch of the warm-up), else the mean of measured kinds.
   */
  private rate(k: TaskKind, cur: Running): number {
    const measured = this.secPerToken[k]
    if (measured !== null) return measured
    const partial = cur.tokens > 0 ? cur.sec / cur.tokens : NaN
    if (k === cur.kind) return partial
    const known = Object.values(this.secPerToken).filter((v): v is number => v !== null)
    return known.length ? known.reduce((a, b) => a + b, 0) / known.length : partial
  }
}
