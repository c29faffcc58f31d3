// E2E: real browser-mode server + system Chromium (playwright-core, never a downloaded browser).
// One file at a time; a whole workbench session (import, train twice, inspect, compare) is one suite.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
    sequence: { concurrent: false },
  },
})
