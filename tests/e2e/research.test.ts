// End-to-end, issue 11: the workbench as researchers use it, on the real browser-mode server in system
// Chromium. Import report and re-import, two datasets kept apart in Results, cancel + resume whose
// series match an uninterrupted run's, delete + undo, PNG export with a legend (pixels checked), deep
// links that survive a reload, uPlot zoom and smoothing, and screenshots of every view in both themes.
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import type { MetricPoint } from '../../preload/api'
import { buildWeb, startTestServer, type TestServer } from './helpers/server'
import { launchBrowser, screenshot } from './helpers/browser'
import { waitForAttr, waitForCount, waitForText } from './helpers/wait'

// A few epochs of everything (3 rounds, 2 finetuning epochs) so every loss has several points.
const SHORT = { epochsScale: '0.01', rounds: '300', finetuneEpochs: '200' }
const TRAIN_TIMEOUT = 240_000

let server: TestServer
let browser: Browser
let page: Page
const pageErrors: string[] = []

/** Any API method, called from the page (it carries the session cookie). */
async function api<T>(method: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(
    async ([m, a]) => {
      const res = await fetch(`/api/${m}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(a),
      })
      if (!res.ok) throw new Error(`${m}: ${res.status} ${await res.text()}`)
      const body = await res.json()
      return body && typeof body === 'object' && 'result' in body ? body.result : body
    },
    [method, args] as const,
  ) as Promise<T>
}

async function waitForStatus(status: string, timeoutMs = TRAIN_TIMEOUT): Promise<void> {
  await waitForText(
    page.getByTestId('monitor-status'),
    (t) => {
      if (t.trim() === 'failed') throw new Error('run failed')
      return t.trim() === status
    },
    timeoutMs,
    `run status '${status}'`,
  )
}

async function startRun(name: string): Promise<number> {
  await page.keyboard.press('Control+3')
  await page.getByTestId('config-form').waitFor()
  await page.getByTestId('pick-dataset').selectOption({ label: `${demoName} (synthetic)` })
  await page.getByTestId('run-name').fill(name)
  for (const [key, value] of Object.entries(SHORT)) {
    const input = page.getByTestId(`cfg-${key}`)
    await input.fill(value)
    await input.dispatchEvent('change')
  }
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

function csvFile(name: string, users: number): string {
  const lines = ['user_id,item_id,rating']
  for (let u = 0; u < users; u++)
    for (let k = 0; k < 8; k++) lines.push(`u${u},i${(u * 7 + k * 3) % 30},${1 + ((u + k) % 5)}`)
  const file = path.join(server.dir, name)
  writeFileSync(file, lines.join('\n') + '\n')
  return file
}

// Browser-side code as source text (the test's own tsconfig has no DOM types).
const SET_RANGE = new Function(
  'el',
  'v',
  "el.value = v; el.dispatchEvent(new Event('input', { bubbles: true }))",
) as (el: unknown, v: string) => void
const LEGEND_PIXELS = `async ([b64, hex]) => {
  const img = new Image()
  img.src = 'data:image/png;base64,' + b64
  await img.decode()
  const c = document.createElement('canvas')
  c.width = img.width
  c.height = img.height
  const ctx = c.getContext('2d')
  ctx.drawImage(img, 0, 0)
  const plot = document.querySelector('[data-testid="overlay-chart"] canvas')
  // Below the title (24 CSS px) and the plot.
  const top = plot.height + 24 * window.devicePixelRatio
  const strip = ctx.getImageData(0, top, Math.min(80, c.width), c.height - top).data
  const want = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16))
  let n = 0
  for (let i = 0; i < strip.length; i += 4)
    if (want.every((v, k) => Math.abs(strip[i + k] - v) < 8)) n++
  return { n, height: c.height, plot: top }
}`

let demoName = ''
let csvDatasetId = 0

describe('issue 11: researcher workflows in browser mode', () => {
  beforeAll(async () => {
    buildWeb()
    server = await startTestServer()
    browser = await launchBrowser()
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    page.on('pageerror', (e) => pageErrors.push(e.message))
    await page.goto(server.url)
  })

  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail' || !page) return
    console.error('[e2e] inline errors:', await page.locator('.error').allTextContents())
    console.error('server log tail:\n', server.log().slice(-2000))
    await screenshot(page, `failure-research-${ctx.task.name.replace(/\W+/g, '-').slice(0, 40)}`)
  })

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  it('reports what each import filter removed, warns on a tiny result, and re-imports', async () => {
    await page.getByTestId('create-demo').click()
    await page.getByTestId('dataset-stats').waitFor({ timeout: 60_000 })
    demoName = ((await page.getByTestId('dataset-stats').locator('h3').textContent()) ?? '').trim()

    await page.getByTestId('file-input').setInputFiles(csvFile('interactions.csv', 40))
    await page.getByTestId('import-preview').waitFor({ timeout: 30_000 })
    expect(await page.getByTestId('import-name').inputValue()).toBe('interactions')
    await page.getByTestId('import-minRating').fill('2')
    await page.getByTestId('import-kcore').fill('2')
    await page.getByTestId('start-import').click()
    await waitForText(
      page.getByTestId('dataset-stats').locator('h3'),
      (t) => t.includes('interactions'),
      60_000,
    )
    const report = page.getByTestId('import-report')
    // One rating in five is 1: 64 of the 320 rows fall under the threshold.
    expect(await report.getByTestId('report-threshold').textContent()).toBe('64')
    expect(Number(await report.getByTestId('report-kept').textContent())).toBeLessThanOrEqual(256)
    expect(await report.getByTestId('report-duplicates').textContent()).toMatch(/^\d+$/)
    expect(await report.getByTestId('report-kcore').textContent()).toMatch(/^\d+$/)
    expect((await page.getByTestId('dataset-warning').allTextContents()).join(' ')).toMatch(/only 30 items/)
    csvDatasetId = Number(
      (await page.locator('[data-testid^="dataset-row-"].selected').getAttribute('data-testid'))
        ?.split('-')
        .pop(),
    )
    await screenshot(page, 'research-import-report')

    // Same file, same settings: refused by name, and no progress bar is left under the error.
    await page.getByTestId('reimport').click()
    await page.getByTestId('import-preview').waitFor()
    expect(await page.getByTestId('import-name').inputValue()).toBe('interactions-2')
    expect(await page.getByTestId('import-minRating').inputValue()).toBe('2')
    await page.getByTestId('start-import').click()
    await waitForText(page.getByTestId('import-error'), (t) => /with the same settings/.test(t), 60_000)
    expect(await page.getByTestId('import-progress').count()).toBe(0)
    // Other settings: a second dataset from the same file.
    await page.getByTestId('import-minRating').fill('4')
    await page.getByTestId('start-import').click()
    await waitForText(
      page.getByTestId('dataset-stats').locator('h3'),
      (t) => t.includes('interactions-2'),
      60_000,
    )
    expect(Number(await page.getByTestId('report-threshold').textContent())).toBeGreaterThan(64)

    // Another file starts from the defaults: nothing carries over from the last import.
    await page.getByTestId('file-input').setInputFiles(csvFile('other.csv', 20))
    await page.getByTestId('import-preview').waitFor({ timeout: 30_000 })
    expect(await page.getByTestId('import-name').inputValue()).toBe('other')
    expect(await page.getByTestId('import-minRating').inputValue()).toBe('0')
  })

  it('shows the MovieLens-style coverage honestly: no "no text" note beside item texts', async () => {
    await page.locator(`[data-testid^="dataset-row-"]`, { hasText: demoName }).click()
    await waitForText(page.getByTestId('dataset-stats').locator('h3'), (t) => t.includes(demoName))
    const coverage = (await page.getByTestId('text-coverage').textContent()) ?? ''
    const hasText = !/reviews 0\.0%, item texts 0\.0%, user texts 0\.0%/.test(coverage)
    expect(await page.getByText('No review, item or user text').count()).toBe(hasText ? 0 : 1)
  })

  let resumed = 0
  let straight = 0
  it('a cancelled and resumed run logs every series at the steps of an uninterrupted one', async () => {
    resumed = await startRun('resumed')
    await waitForText(
      page.getByTestId('run-progress-text'),
      (t) => /Collaborative|Content LLM \(C/.test(t),
      TRAIN_TIMEOUT,
    )
    await page.getByTestId('monitor-cancel').click()
    await waitForStatus('cancelled', 60_000)
    await page.getByTestId('monitor-resume').click()
    await waitForStatus('done')
    straight = await startRun('straight')
    await waitForStatus('done')
    await screenshot(page, 'research-train')

    const series = async (id: number) =>
      (await api<MetricPoint[]>('runMetrics', id))
        .map((m) => `${m.name}@${m.stage}:${m.step}:${m.epoch}`)
        .sort()
    expect(await series(resumed)).toEqual(await series(straight))

    // The overlay of both draws every metric on shared steps (no diagonal from step 0).
    await page.keyboard.press('Control+5')
    await page.getByTestId(`select-run-${resumed}`).check()
    await page.getByTestId(`select-run-${straight}`).check()
    const chart = page.getByTestId('overlay-chart')
    await waitForAttr(chart, 'data-series', '2')
    const keys = await page.getByTestId('overlay-metric').locator('option').allTextContents()
    expect(keys.length).toBeGreaterThan(3)
    for (const key of keys) {
      await page.getByTestId('overlay-metric').selectOption(key)
      // Both runs' curves load on selection, one request each: wait until neither is empty.
      const points = await waitForAttr(chart, 'data-points', (v) => /^[1-9]\d*,[1-9]\d*$/.test(v))
      const [a, b] = points.split(',')
      expect(a, key).toBe(b)
      expect(await chart.getAttribute('data-xs'), key).toBe(a)
    }
  })

  it('keeps two datasets apart in Results and the dataset selector filters', async () => {
    await page.getByTestId('results-dataset').selectOption(String(csvDatasetId))
    await page.getByTestId('run-baselines').click()
    await waitForCount(page.getByTestId('result-baseline'), 1, 120_000)
    expect(await page.locator('[data-testid="protocol-group"]').count()).toBe(1)
    expect(await page.getByTestId(`result-run-${resumed}`).count()).toBe(0)
    await page.getByTestId('results-dataset').selectOption('')
    const groups = page.locator('[data-testid="protocol-group"]')
    await waitForCount(groups, 2)
    const datasets = await groups.evaluateAll((els) => els.map((e) => e.getAttribute('data-dataset')))
    expect(new Set(datasets).size).toBe(datasets.length)
    // Both runs sit in the demo dataset's group, the baselines in the CSV dataset's.
    const demoGroup = groups.filter({ has: page.getByTestId(`result-run-${resumed}`) })
    expect(await demoGroup.getByTestId(`result-run-${straight}`).count()).toBe(1)
    expect(await demoGroup.getByTestId('result-baseline').count()).toBe(0)
    const sortName = page.getByTestId('sort-name').first()
    // Names sort A-Z first, a second click reverses.
    await sortName.click()
    expect(await sortName.textContent()).toMatch(/▲/)
    const order = async () =>
      (await demoGroup
        .locator('[data-testid^="result-run-"]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')))) as string[]
    const asc = await order()
    expect(asc).toEqual([`result-run-${resumed}`, `result-run-${straight}`])
    await sortName.click()
    expect(await sortName.textContent()).toMatch(/▼/)
    expect(await order()).toEqual([...asc].reverse())
  })

  it('zooms and smooths the uPlot overlay, and exports a PNG with a legend', async () => {
    await page.getByTestId('overlay-metric').selectOption('collaborative/loss')
    const chart = page.getByTestId('overlay-chart')
    await waitForAttr(chart, 'data-points', (v) => /^(\d+),\1$/.test(v) && Number(v.split(',')[0]) >= 3)
    const before = await chart.getAttribute('data-last')
    await page.getByTestId('smoothing').evaluate(SET_RANGE, '0.9')
    await waitForAttr(chart, 'data-last', (v) => v !== before && v !== '')
    const xmax = await chart.getAttribute('data-xmax')
    const over = chart.locator('.u-over')
    const box = (await over.boundingBox())!
    await page.mouse.move(box.x + box.width * 0.1, box.y + box.height / 2)
    await page.mouse.down()
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 })
    await page.mouse.up()
    await waitForAttr(chart, 'data-xmax', (v) => v !== xmax && Number(v) < Number(xmax))
    await screenshot(page, 'research-results-zoomed')
    await over.dblclick()
    await waitForAttr(chart, 'data-xmax', xmax ?? '')

    const dl = page.waitForEvent('download')
    await page.getByTestId('export-png').click()
    const png = readFileSync((await (await dl).path())!)
    const color = (await page.evaluate(
      "getComputedStyle(document.documentElement).getPropertyValue('--series-1').trim()",
    )) as string
    // The legend sits under the plot: count pixels of the second run's colour in that strip.
    const found = (await page.evaluate(
      `(${LEGEND_PIXELS})(${JSON.stringify([png.toString('base64'), color])})`,
    )) as { n: number; height: number; plot: number }
    expect(found.height).toBeGreaterThan(found.plot)
    expect(found.n).toBeGreaterThan(20)

    const csv = page.waitForEvent('download')
    await page.getByTestId('export-results-csv').click()
    const text = readFileSync((await (await csv).path())!, 'utf8')
    expect(text.split('\n')[0]).toMatch(/seed.*config,prompts$/)
    const line = text.split('\n').find((l) => l.startsWith(`run,${resumed},`))!
    expect(line).toContain('epochsScale')
    expect(line).toContain('{user}')
  })

  it('renames, tags and annotates a run; a reload keeps the view and the selection', async () => {
    await page.getByTestId('meta-name').fill('straight-renamed')
    await page.getByTestId('meta-tags').fill('paper, reference')
    await page.getByTestId('meta-notes').fill('uninterrupted reference run')
    await page.getByTestId('meta-save').click()
    await waitForText(page.getByTestId(`result-run-${straight}`), (t) => t.includes('straight-renamed'))
    await page.getByTestId('results-search').fill('reference')
    await waitForCount(page.getByTestId(`result-run-${resumed}`), 0)
    expect(await page.getByTestId(`result-run-${straight}`).count()).toBe(1)
    await page.getByTestId('results-search').fill('')
    await page.getByTestId('run-diff').waitFor()
    await page.getByTestId('parallel-coordinates').waitFor()

    expect(page.url()).toContain(`#/results?runs=${resumed}%2C${straight}`)
    await page.reload()
    await page.getByTestId('view-results').waitFor()
    await waitForCount(page.locator(`[data-testid="select-run-${resumed}"]:checked`), 1)
    expect(await page.getByTestId(`select-run-${straight}`).isChecked()).toBe(true)
    await waitForAttr(page.getByTestId('overlay-chart'), 'data-series', '2')
    expect(await page.getByTestId('meta-notes').inputValue()).toBe('uninterrupted reference run')
  })

  it('deletes a run and a dataset after a confirmation, and undoes both whole', async () => {
    await page.keyboard.press('Control+3')
    await page.getByTestId(`delete-run-${resumed}`).click()
    await page.getByTestId(`delete-run-${resumed}-confirm`).waitFor()
    await page.getByTestId(`delete-run-${resumed}-no`).click()
    expect(await page.getByTestId(`run-row-${resumed}`).count()).toBe(1)
    await page.getByTestId(`delete-run-${resumed}`).click()
    await page.getByTestId(`delete-run-${resumed}-yes`).click()
    await waitForCount(page.getByTestId(`run-row-${resumed}`), 0)
    await page.getByTestId('undo-button').click()
    await waitForCount(page.getByTestId(`run-row-${resumed}`), 1)

    await page.keyboard.press('Control+1')
    const before = await api<{ interactions: number; stats: unknown }>('getDataset', csvDatasetId)
    await page.getByTestId(`delete-dataset-${csvDatasetId}`).click()
    await page.getByTestId(`delete-dataset-${csvDatasetId}-yes`).click()
    await waitForCount(page.getByTestId(`dataset-row-${csvDatasetId}`), 0)
    await screenshot(page, 'research-undo')
    await page.getByTestId('undo-button').click()
    await waitForCount(page.getByTestId(`dataset-row-${csvDatasetId}`), 1)
    expect(await api('getDataset', csvDatasetId)).toEqual(before)
    // Its baselines are back in Results too.
    await page.keyboard.press('Control+5')
    await waitForCount(page.getByTestId('result-baseline'), 1)
  })

  it('screenshots every view in light and dark theme', async () => {
    for (const theme of ['light', 'dark']) {
      if ((await page.evaluate('document.documentElement.dataset.theme')) !== theme)
        await page.getByTestId('theme-toggle').click()
      for (const [i, view] of ['datasets', 'prompts', 'train', 'inspect', 'results'].entries()) {
        await page.keyboard.press(`Control+${i + 1}`)
        await page.getByTestId(`view-${view}`).waitFor()
        await page.waitForTimeout(300)
        await screenshot(page, `view-${view}-${theme}`)
      }
    }
    await page.getByTestId('theme-toggle').click()
    expect(pageErrors).toEqual([])
  })
})
