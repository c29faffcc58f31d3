// Polling helpers (playwright-core has no expect-with-retry): wait until a locator's text satisfies
// a predicate, with the last text seen in the timeout error.
import type { Locator } from 'playwright-core'

export async function waitForText(
  locator: Locator,
  ok: (text: string) => boolean,
  timeoutMs = 30_000,
  what = 'text',
): Promise<string> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  for (;;) {
    try {
      last = (await locator.first().textContent({ timeout: 1000 })) ?? ''
      if (ok(last)) return last
    } catch {
      // not attached yet
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: "${last}"`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

export async function waitForCount(locator: Locator, min: number, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const n = await locator.count()
    if (n >= min) return n
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${min} elements, have ${n}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

export async function waitForAttr(
  locator: Locator,
  name: string,
  want: string | ((v: string) => boolean),
  timeoutMs = 30_000,
): Promise<string> {
  const ok = typeof want === 'string' ? (v: string) => v === want : want
  const deadline = Date.now() + timeoutMs
  let last = ''
  for (;;) {
    last =
      (await locator
        .first()
        .getAttribute(name, { timeout: 1000 })
        .catch(() => null)) ?? ''
    if (ok(last)) return last
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${name}; last: "${last}"`)
    await new Promise((r) => setTimeout(r, 200))
  }
}
