import { defineConfig } from 'vitest/config'

// Unit + integration tests run in plain Node. E2E (Chromium) has its own config.
export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts', 'tests/integration/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
})
