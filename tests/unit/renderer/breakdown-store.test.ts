// The breakdown store takes Mult-VAE's default and cap from main's config schema, so the renderer's form
// checks the same limit main's argument check does and never restates it.
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'

const configSchema = vi.fn()
vi.mock('../../../renderer/src/api', () => ({
  api: { configSchema: (...a: unknown[]) => configSchema(...a), onEvent: () => () => {} },
  errorText: (e: unknown) => (e instanceof Error ? e.message : String(e)),
}))

const { useBreakdownStore } = await import('../../../renderer/src/stores/breakdown')

describe('breakdown store: Mult-VAE epoch limits', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    configSchema.mockReset()
  })

  it('loads the default and cap main reports, once', async () => {
    configSchema.mockResolvedValue({ fields: [], presets: {}, multVaeEpochs: { default: 150, max: 900 } })
    const bd = useBreakdownStore()
    expect(bd.vaeEpochLimits).toBeNull()
    await bd.loadLimits()
    await bd.loadLimits()
    expect(bd.vaeEpochLimits).toEqual({ default: 150, max: 900 })
    expect(configSchema).toHaveBeenCalledTimes(1)
  })

  it('keeps no limits and says why when the call fails, and retries on the next load', async () => {
    configSchema.mockRejectedValueOnce(new Error('worker gone'))
    const bd = useBreakdownStore()
    await bd.loadLimits()
    expect(bd.vaeEpochLimits).toBeNull()
    expect(bd.limitsError).toBe('worker gone')
    configSchema.mockResolvedValue({ fields: [], presets: {}, multVaeEpochs: { default: 200, max: 2000 } })
    await bd.loadLimits()
    expect(bd.vaeEpochLimits).toEqual({ default: 200, max: 2000 })
    expect(bd.limitsError).toBe('')
  })
})
