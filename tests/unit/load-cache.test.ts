// The engine worker's cache: one load per key however many requests overlap, eviction frees a value
// once its load has settled and no request still uses it, and a failed load is tried again next time.
import { describe, expect, it } from 'vitest'
import { LoadCache } from '../../main/worker/load-cache'

/** A load that settles when told, counting how often each key was loaded. */
function loader() {
  const calls: string[] = []
  const pending = new Map<string, { resolve: (v: string) => void; reject: (e: Error) => void }>()
  const load = (key: string) => () =>
    new Promise<string>((resolve, reject) => {
      calls.push(key)
      pending.set(key, { resolve, reject })
    })
  return { calls, pending, load }
}

/** The value itself: the use ends as soon as the value is there. */
const same = (v: string) => v

describe('LoadCache', () => {
  it('shares one load among overlapping requests for a key', async () => {
    const dropped: string[] = []
    const cache = new LoadCache<string>(2, (v) => dropped.push(v))
    const { calls, pending, load } = loader()
    const a = cache.use('run 1', load('run 1'), same)
    const b = cache.use('run 1', load('run 1'), same)
    pending.get('run 1')!.resolve('session 1')
    expect(await Promise.all([a, b])).toEqual(['session 1', 'session 1'])
    expect(calls).toEqual(['run 1'])
    expect(dropped).toEqual([])
  })

  it('drops the least recently used value, after its load has settled', async () => {
    const dropped: string[] = []
    const cache = new LoadCache<string>(2, (v) => dropped.push(v))
    const { calls, pending, load } = loader()
    const one = cache.use('1', load('1'), same)
    pending.get('1')!.resolve('v1')
    await one
    void cache.use('2', load('2'), same)
    await cache.use('1', load('1'), same) // a hit: '1' is now the most recent
    void cache.use('3', load('3'), same) // pushes '2' out while it is still loading
    expect(dropped).toEqual([])
    pending.get('2')!.resolve('v2')
    await new Promise((r) => setImmediate(r))
    expect(dropped).toEqual(['v2'])
    expect(calls).toEqual(['1', '2', '3'])
    pending.get('3')!.resolve('v3')
    await cache.clear()
    expect(dropped.sort()).toEqual(['v1', 'v2', 'v3'])
  })

  it('forgets a failed load, so the next request loads again', async () => {
    const cache = new LoadCache<string>(2)
    const { calls, pending, load } = loader()
    const first = cache.use('run 7', load('run 7'), same)
    pending.get('run 7')!.reject(new Error('no such run'))
    await expect(first).rejects.toThrow('no such run')
    const second = cache.use('run 7', load('run 7'), same)
    pending.get('run 7')!.resolve('session 7')
    expect(await second).toBe('session 7')
    expect(calls).toEqual(['run 7', 'run 7'])
  })

  it('frees a value pushed out while a request uses it only when that request ends', async () => {
    const dropped: string[] = []
    const cache = new LoadCache<string>(1, (v) => dropped.push(v))
    const { pending, load } = loader()
    let finishUse!: () => void
    const inUse = cache.use('run 1', load('run 1'), async (v) => {
      await new Promise<void>((r) => (finishUse = r))
      return `${v} read`
    })
    pending.get('run 1')!.resolve('session 1')
    await new Promise((r) => setImmediate(r))
    const other = cache.use('run 2', load('run 2'), same) // pushes 'run 1' out mid-use
    pending.get('run 2')!.resolve('session 2')
    await other
    await new Promise((r) => setImmediate(r))
    expect(dropped).toEqual([])
    finishUse()
    expect(await inUse).toBe('session 1 read')
    await new Promise((r) => setImmediate(r))
    expect(dropped).toEqual(['session 1'])
    await cache.clear()
    expect(dropped).toEqual(['session 1', 'session 2'])
  })
})
