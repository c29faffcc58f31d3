// End-to-end: one researcher session against the real browser-mode server (SQLite, worker, engine)
// in system Chromium: demo dataset -> prompt edit with live token preview (saved as a preset) -> tiny
// run with that prompt, progress, cancel and resume -> Inspect -> second run with the built-in prompt
// -> compare both in Results -> CSV import.
// Screenshots of every view land in artifacts/e2e/.
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { buildWeb, startTestServer, type TestServer } from './helpers/server'
import { launchBrowser, screenshot } from './helpers/browser'
import { waitForAttr, waitForCount, waitForText } from './helpers/wait'

// Tiny training: every epoch count scaled down to its minimum, so a run takes seconds, not hours.
const TINY = { epochsScale: '0.01' }
const TRAIN_TIMEOUT = 240_000

let server: TestServer
let browser: Browser
let page: Page
const pageErrors: string[] = []

async function setConfig(values: Record<string, string>): Promise<void> {
  for (const [key, value] of Object.entries(values)) {
    const input = page.getByTestId(`cfg-${key}`)
    await input.fill(value)
    await input.dispatchEvent('change')
  }
}

async function startRun(name: string): Promise<number> {
  await page.getByTestId('run-name').fill(name)
  await setConfig(TINY)
  // Ctrl+Enter is the documented shortcut; the button is the fallback users see.
  await page.locator('body').click({ position: { x: 5, y: 5 } })
  await page.keyboard.press('Control+Enter')
  const title = await waitForText(
    page.getByTestId('run-monitor').locator('h3'),
    (t) => t.includes(name),
    30_000,
    'run monitor',
  )
  return Number(/#(\d+)/.exec(title)?.[1])
}

async function waitForStatus(status: string, timeoutMs = TRAIN_TIMEOUT): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let now = ''
  for (;;) {
    // A failed cancel/resume is reported inline: stop waiting and say why.
    const actionError = page.getByTestId('run-action-error')
    if (await actionError.count())
      throw new Error(`run action failed: ${await actionError.first().textContent()}`)
    now = ((await page.getByTestId('monitor-status').textContent()) ?? '').trim()
    if (now === status) return
    if (now === 'failed') {
      const err = await page
        .getByTestId('run-error')
        .textContent()
        .catch(() => '')
      throw new Error(`run ended 'failed' instead of '${status}': ${err}`)
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for run status '${status}' (now '${now}')`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

describe('workbench in browser mode', () => {
  beforeAll(async () => {
    buildWeb()
    server = await startTestServer()
    browser = await launchBrowser()
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } })
    page.on('pageerror', (e) => pageErrors.push(e.message))
    await page.goto(server.url)
  })

  // On failure, print what the UI showed inline (errors are rendered where they happen) + a screenshot.
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail' || !page) return
    const errors = await page.locator('.error').allTextContents()
    console.error(
      `[e2e] inline errors at failure of "${ctx.task.name}":`,
      errors,
      '\nserver log tail:\n',
      server.log().slice(-2000),
    )
    await screenshot(page, `failure-${ctx.task.name.replace(/\W+/g, '-').slice(0, 40)}`)
  })

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  it('shows the backend badge and keyboard help', async () => {
    const badge = await waitForText(page.getByTestId('backend-badge'), (t) => /tfjs/.test(t), 30_000, 'badge')
    expect(badge).toMatch(/browser · tfjs (node-gpu|webgpu \(.+\)|node|native|wasm|cpu)/)
    await page.keyboard.press('?')
    await page.getByTestId('shortcuts-dialog').waitFor()
    await page.keyboard.press('Escape')
    await page.getByTestId('shortcuts-dialog').waitFor({ state: 'detached' })
  })

  it('creates the synthetic demo dataset and shows its statistics', async () => {
    await page.getByTestId('create-demo').click()
    await page.getByTestId('dataset-stats').waitFor({ timeout: 60_000 })
    expect(await page.getByTestId('synthetic-badge').count()).toBe(1)
    const users = Number((await page.getByTestId('stat-users').textContent())?.replace(/,/g, ''))
    expect(users).toBeGreaterThan(0)
    expect(await page.getByTestId('hist-user-degree').locator('rect.bar').count()).toBeGreaterThan(0)
    await screenshot(page, 'datasets')
  })

  it('edits a hard prompt and the live token preview follows', async () => {
    await page.keyboard.press('Control+2')
    const preview = page.getByTestId('token-preview')
    await preview.waitFor({ timeout: 60_000 })
    const hard = preview.locator('[data-role="hard"]')
    await waitForCount(hard, 1)
    const before = (await hard.allTextContents()).join('')
    expect(await preview.locator('[data-role="soft"]').count()).toBeGreaterThan(0)

    await page.getByTestId('template-collaborative').fill('{user} purchased these products:')
    const after = await waitForText(
      preview.locator('.tokens'),
      (t) => /purchased/.test(t),
      30_000,
      'preview with the new phrase',
    )
    expect(after).not.toContain(before)
    // A phrase without its placeholder is rejected inline.
    await page.getByTestId('template-collaborative').fill('purchased these products:')
    await page.getByTestId('template-error-collaborative').first().waitFor({ timeout: 30_000 })
    await page.getByTestId('template-collaborative').fill('{user} purchased these products:')
    await page
      .getByTestId('template-error-collaborative')
      .first()
      .waitFor({ state: 'detached', timeout: 30_000 })
    await screenshot(page, 'prompts')
    // Keep the phrase as a user preset: the second run uses it.
    await page.getByTestId('preset-name').fill('purchased')
    await page.getByTestId('save-preset').click()
    await waitForText(
      page.getByTestId('prompt-preset'),
      (t) => t.includes('purchased'),
      30_000,
      'saved preset',
    )
  })

  let firstRun = 0
  it('trains a tiny run with visible progress, cancels and resumes it', async () => {
    await page.keyboard.press('Control+3')
    await page.getByTestId('config-form').waitFor()
    expect(await page.getByTestId('run-prompts').textContent()).toContain('purchased')
    firstRun = await startRun('purchased-prompt')
    expect(firstRun).toBeGreaterThan(0)
    await waitForText(
      page.getByTestId('run-progress-text'),
      (t) => /step \d+\/\d+/.test(t),
      TRAIN_TIMEOUT,
      'progress',
    )
    await screenshot(page, 'train-progress')

    await page.getByTestId('monitor-cancel').click()
    await waitForStatus('cancelled', 60_000)
    await page.getByTestId('monitor-resume').click()
    await waitForStatus('done')
    await page.getByTestId('run-test-metrics').waitFor()
    expect(await page.locator('[data-testid^="curve-"]').count()).toBeGreaterThan(0)
    await screenshot(page, 'train')
  })

  it('inspects the run: both LLMs side by side', async () => {
    await page.keyboard.press('Control+4')
    await page.getByTestId('inspect-run').selectOption(String(firstRun))
    await waitForCount(page.getByTestId('inspect-user').locator('option:not([disabled])'), 1)
    const user = await page
      .getByTestId('inspect-user')
      .locator('option:not([disabled])')
      .first()
      .getAttribute('value')
    await page.getByTestId('inspect-user').selectOption(user ?? '0')
    await waitForCount(page.getByTestId('rec-collaborative').locator('li'), 1)
    await waitForCount(page.getByTestId('rec-content').locator('li'), 1)
    // Clicking a recommended item selects it everywhere, including both scatter plots.
    await page.getByTestId('rec-collaborative').locator('li button').first().click()
    await waitForText(page.getByTestId('item-distance'), (t) => /= \S+/.test(t), 30_000, 'item distance')
    await waitForCount(page.getByTestId('scatter-collaborative').getByTestId('scatter-highlight'), 1)
    await waitForCount(page.getByTestId('scatter-content').getByTestId('scatter-highlight'), 1)
    // A new K applies at once, to the user's lists and the item's neighbours.
    await page.getByTestId('inspect-k').fill('3')
    for (const list of ['rec-collaborative', 'rec-content', 'nn-collaborative', 'nn-content']) {
      const items = page.getByTestId(list).locator('li')
      for (let t = 0; (await items.count()) !== 3 && t < 150; t++) await page.waitForTimeout(200)
      expect(await items.count(), list).toBe(3)
    }
    await page.getByTestId('generate-review').click()
    await page.getByTestId('review-text').waitFor({ timeout: 120_000 })
    // Sampled beside greedy, and the prompt's soft tokens named by the real ids.
    await page.getByTestId('review-sampled').waitFor({ timeout: 120_000 })
    expect(await page.getByTestId('review-for').textContent()).toMatch(/for user \S+ and item \S+/)
    await screenshot(page, 'inspect')
  })

  let secondRun = 0
  it('trains a second run with the built-in prompt', async () => {
    await page.keyboard.press('Control+2')
    const builtin = await page
      .getByTestId('prompt-preset')
      .locator('option', { hasText: 'built-in' })
      .first()
      .getAttribute('value')
    await page.getByTestId('prompt-preset').selectOption(builtin ?? '')
    expect(await page.getByTestId('template-collaborative').inputValue()).not.toContain('purchased')
    await page.keyboard.press('Control+3')
    secondRun = await startRun('builtin-prompt')
    expect(secondRun).not.toBe(firstRun)
    await waitForStatus('done')
  })

  it('compares both runs in Results', async () => {
    await page.keyboard.press('Control+5')
    await page.getByTestId(`result-run-${firstRun}`).waitFor({ timeout: 30_000 })
    await page.getByTestId(`result-run-${secondRun}`).waitFor()
    await page.getByTestId(`select-run-${firstRun}`).check()
    await page.getByTestId(`select-run-${secondRun}`).check()
    await waitForAttr(page.getByTestId('overlay-chart'), 'data-series', '2')
    await waitForCount(page.getByTestId('overlay-chart').locator('canvas'), 1)
    await page.getByTestId('diff-prompt.collaborative').waitFor()
    expect(await page.getByTestId('diff-prompt.collaborative').textContent()).toContain('purchased')

    // Baselines show their stage with an ETA and can be cancelled (after a reload too), storing nothing.
    await page.getByTestId('results-dataset').selectOption({ index: 1 })
    await page.getByTestId('run-baselines').click()
    const stage = page.getByTestId('baseline-progress')
    await waitForText(stage, (t) => /Mult-VAE: \d+\/200 epochs/.test(t) && /ETA/.test(t), 120_000)
    await screenshot(page, 'results-baselines-running')
    // A reload during the call finds it again from its events, Cancel included.
    await page.reload()
    await waitForText(stage, (t) => /Mult-VAE: \d+\/200 epochs/.test(t), 60_000)
    await page.getByTestId('cancel-baselines').click()
    await waitForText(page.getByTestId('baseline-error'), (t) => /cancelled; nothing was stored/.test(t))
    expect(await stage.count()).toBe(0)
    expect(await page.getByTestId('result-baseline').count()).toBe(0)
    // Run again to the end: the baselines join the runs' dataset + protocol group.
    await page.getByTestId('run-baselines').click()
    await waitForCount(page.getByTestId('result-baseline'), 1, 120_000)
    expect(await page.getByTestId('baseline-error').count()).toBe(0)

    const download = page.waitForEvent('download')
    await page.getByTestId('export-results-csv').click()
    const csv = readFileSync((await (await download).path())!, 'utf8')
    expect(csv.split('\n')[0]).toContain('recall20')
    expect(csv).toContain(`run,${firstRun},`)
    expect(csv).toContain(`run,${secondRun},`)
    const png = page.waitForEvent('download')
    await page.getByTestId('export-png').click()
    expect((await png).suggestedFilename()).toMatch(/\.png$/)
    await screenshot(page, 'results')

    await page.getByTestId('theme-toggle').click()
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('dark')
    await screenshot(page, 'results-dark')
    // The theme choice survives a reload.
    await page.reload()
    await page.getByTestId('backend-badge').waitFor()
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('dark')
    await page.getByTestId('theme-toggle').click()
    expect(pageErrors).toEqual([])
  })

  it('breaks the selected run down by history length and item popularity', async () => {
    await page.keyboard.press('Control+5')
    await page.getByTestId(`result-run-${firstRun}`).waitFor({ timeout: 30_000 })
    // The breakdown follows the last selected run: select the first run last.
    const box = page.getByTestId(`select-run-${firstRun}`)
    if (await box.isChecked()) await box.uncheck()
    await box.check()
    const panel = page.getByTestId('run-breakdown')
    await waitForText(panel.locator('h3'), (t) => t.includes(`#${firstRun}`))

    // With Mult-VAE (for the epochs asked) the call shows its stage and ETA, and Cancel ends it with
    // nothing shown. An epoch count out of range disables Compute.
    await page.getByTestId('breakdown-vae').check()
    const epochs = page.getByTestId('breakdown-vae-epochs')
    expect(await epochs.inputValue()).toBe('200')
    await epochs.fill('0')
    expect(await page.getByTestId('breakdown-compute').isDisabled()).toBe(true)
    // The cap is main's (2000, the same check the call's arguments get), not restated in the renderer.
    expect(await epochs.getAttribute('max')).toBe('2000')
    await epochs.fill('2001')
    expect(await page.getByTestId('breakdown-compute').isDisabled()).toBe(true)
    await epochs.fill('2000')
    expect(await page.getByTestId('breakdown-compute').isDisabled()).toBe(false)
    await epochs.fill('150')
    await page.getByTestId('breakdown-compute').click()
    const progress = page.getByTestId('breakdown-progress')
    await waitForText(progress, (t) => /Mult-VAE: \d+\/150 epochs/.test(t) && /ETA/.test(t), 120_000)
    await screenshot(page, 'results-breakdown-vae')
    await page.getByTestId('theme-toggle').click()
    await screenshot(page, 'results-breakdown-vae-dark')
    await page.getByTestId('theme-toggle').click()
    await page.getByTestId('breakdown-cancel').click()
    await waitForText(page.getByTestId('breakdown-error'), (t) => /cancelled/.test(t))
    expect(await progress.count()).toBe(0)
    expect(await page.getByTestId('breakdown-history').count()).toBe(0)

    await page.getByTestId('breakdown-vae').uncheck()
    await page.getByTestId('breakdown-compute').click()
    const history = page.getByTestId('breakdown-history')
    await history.waitFor({ timeout: 120_000 })
    expect(await page.getByTestId('breakdown-error').count()).toBe(0)
    const heads = await history.locator('th').allTextContents()
    expect(heads).toEqual(['group', 'users', 'CLLM4Rec', 'Popularity', 'EASE'])
    const rows = history.locator('tbody tr')
    expect(await rows.locator('td:first-child').allTextContents()).toEqual([
      'all',
      '1–3',
      '4–5',
      '6–9',
      '10–19',
      '20+',
    ])
    // The 'all' row is the run's test Recall@20 in the results table above.
    const ours = (await rows.first().locator('td[data-model="CLLM4Rec"]').textContent())?.trim()
    const r20 = await page.getByTestId(`result-run-${firstRun}`).locator('td').nth(3).textContent()
    expect(Math.abs(Number(ours) - Number(r20))).toBeLessThan(1e-4)
    const popularity = page.getByTestId('breakdown-popularity')
    expect(await popularity.locator('tbody tr').count()).toBe(6)
    for (const table of [history, popularity]) {
      const label = (await table.locator('.label').textContent()) ?? ''
      expect(label).toMatch(
        /^dataset demo-\S+ · protocol: .+; test split · CLLM4Rec: the run's validation-selected/,
      )
    }
    // Each row's best model stands out (the 'all' row at least has one on this data).
    expect(await rows.first().locator('td.best').count()).toBeGreaterThan(0)
    await screenshot(page, 'results-breakdown')
    await page.getByTestId('theme-toggle').click()
    await screenshot(page, 'results-breakdown-dark')
    await page.getByTestId('theme-toggle').click()
    expect(pageErrors).toEqual([])
  })

  it('imports a CSV file: preview, column mapping, progress, statistics', async () => {
    // A small generated interaction log (not real data): 40 users x 8 items over 30 items.
    const lines = ['user_id,item_id,rating,timestamp']
    for (let u = 0; u < 40; u++)
      for (let k = 0; k < 8; k++)
        lines.push(`u${u},i${(u * 7 + k * 3) % 30},${1 + ((u + k) % 5)},${1e9 + u * 100 + k}`)
    const file = path.join(server.dir, 'interactions.csv')
    writeFileSync(file, lines.join('\n') + '\n')

    await page.keyboard.press('Control+1')
    await page.getByTestId('file-input').setInputFiles(file)
    await page.getByTestId('import-preview').waitFor({ timeout: 30_000 })
    expect(await page.getByTestId('import-preview').locator('th').allTextContents()).toEqual([
      'user_id',
      'item_id',
      'rating',
      'timestamp',
    ])
    expect(await page.getByTestId('map-user').inputValue()).toBe('user_id')
    expect(await page.getByTestId('map-item').inputValue()).toBe('item_id')
    await page.getByTestId('import-name').fill('generated-csv')
    await page.getByTestId('import-kcore').fill('2')
    await page.getByTestId('import-minRating').fill('2')
    await page.getByTestId('start-import').click()
    await page.getByTestId('import-progress').waitFor()
    await waitForText(
      page.getByTestId('dataset-stats').locator('h3'),
      (t) => t.includes('generated-csv'),
      60_000,
      'imported dataset',
    )
    await waitForText(page.getByTestId('import-progress'), (t) => t.includes('100.0%'), 30_000, 'import done')
    // Ratings below 2 were dropped (one in five rows), so fewer than the 320 rows remain.
    const row = page.locator('[data-testid^="dataset-row-"]', { hasText: 'generated-csv' })
    expect(await row.getByTestId('synthetic-badge').count()).toBe(0)
    const interactions = Number((await row.locator('td').nth(3).textContent())?.replace(/,/g, ''))
    expect(interactions).toBeGreaterThan(0)
    expect(interactions).toBeLessThan(320)
    await screenshot(page, 'datasets-import')
  })
})
