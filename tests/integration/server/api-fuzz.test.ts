// Every API method, called through the handler table with hostile arguments (wrong types, extra
// arguments, prototype tricks, huge numbers), must answer with a client error that names the problem,
// never crash, hang or reach the disk with a raw path.
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiApp, type ApiApp } from '../../../main/api/app'
import { NO_DIALOGS } from '../../../main/api/context'
import { callApi, methodArity } from '../../../main/api/handlers'
import { API_METHODS } from '../../../main/api/methods'
import { ApiError } from '../../../main/api/validate'

let tmp: string
let app: ApiApp

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'wb-fuzz-'))
  app = createApiApp({ mode: 'browser', version: '0', dbPath: path.join(tmp, 'wb.db'), dialogs: NO_DIALOGS })
})

afterAll(async () => {
  await app.close()
  rmSync(tmp, { recursive: true, force: true })
})

const GARBAGE: unknown[] = [
  null,
  -1,
  1.5,
  1e308,
  'x',
  '../../etc/passwd',
  [],
  { __proto__: { polluted: true } },
  { constructor: { prototype: { polluted: true } } },
  true,
]

const isPlainObject = (x: unknown): boolean => typeof x === 'object' && x !== null && !Array.isArray(x)

describe('hostile arguments', () => {
  it('every method rejects every garbage argument with a 4xx ApiError', async () => {
    let checked = 0
    for (const method of API_METHODS) {
      const n = methodArity(method)
      // Each garbage value in every argument slot (the contract's arity), plus one argument too many.
      const argLists = [Array(n + 1).fill(1), ...(n === 0 ? [] : GARBAGE.map((g) => Array(n).fill(g)))]
      for (const args of argLists) {
        // All of DemoOptions is optional: any plain object (prototype tricks ignored) is a valid call.
        const optionalObject = method === 'createDemoDataset' && args.length === 1 && isPlainObject(args[0])
        if (optionalObject) continue
        const call = callApi(app.handlers, method, args)
        const err = await call.then(
          () => null,
          (e: unknown) => e,
        )
        expect(err, `${method}(${JSON.stringify(args)}) was accepted`).toBeInstanceOf(ApiError)
        const status = (err as ApiError).status
        expect(status, `${method}: ${(err as Error).message}`).toBeGreaterThanOrEqual(400)
        expect(status).toBeLessThan(500)
        expect((err as Error).message.length).toBeGreaterThan(10)
        checked++
      }
    }
    expect(checked).toBeGreaterThan(200)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('names the argument in validation errors', async () => {
    const msg = async (m: string, args: unknown[]): Promise<string> =>
      callApi(app.handlers, m, args).then(
        () => 'accepted',
        (e: Error) => e.message,
      )
    expect(await msg('getDataset', ['1'])).toBe("argument 'id' must be an integer")
    expect(await msg('listItems', [1, 'q', 0])).toBe("argument 'limit' must be an integer in [1, 10000]")
    expect(await msg('inspectUser', [1, -1, 5])).toBe("argument 'user' must be an integer in [0, ∞]")
    expect(await msg('generateReview', [1, 0, 0, 10_000])).toBe(
      "argument 'maxNewTokens' must be an integer in [1, 512]",
    )
    expect(await msg('uploadFile', ['a.csv', 'not bytes'])).toBe(
      "argument 'bytes' must be an ArrayBuffer or Uint8Array",
    )
    expect(await msg('savePromptPreset', ['p', { collaborative: 'x' }])).toBe(
      "argument 'templates.review' must be a string",
    )
    expect(await msg('importDataset', [{ fileRef: 'f_x', split: [0.8, 0.2] }])).toBe(
      "argument 'options.split' must be an array of 3 fractions",
    )
    expect(await msg('nope', [])).toBe("unknown API method 'nope'")
  })
})
