// electron-vite: main (+ training worker), preload, renderer. Targets are explicit because the
// Electron binary may be absent (electron-vite would otherwise ask it for its versions); build with
// ELECTRON_MAJOR_VER=39 (the npm scripts set it).
import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import vue from '@vitejs/plugin-vue'

export default defineConfig({
  main: {
    build: {
      target: 'node22',
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'main/index.ts'),
          'training-worker': resolve(__dirname, 'main/worker/training-worker.ts'),
          'engine-worker': resolve(__dirname, 'main/worker/engine-worker.ts'),
        },
        external: [
          'better-sqlite3',
          '@tensorflow/tfjs-node',
          '@tensorflow/tfjs-node-gpu',
          '@tensorflow/tfjs-backend-wasm',
          // Optional (Dawn's prebuilt N-API binary): loaded at run time when present.
          '@tensorflow/tfjs-backend-webgpu',
          'webgpu',
        ],
      },
    },
  },
  preload: {
    build: {
      target: 'node22',
      // A sandboxed preload must be a plain CommonJS script.
      rollupOptions: { input: { index: resolve(__dirname, 'preload/index.ts') }, output: { format: 'cjs' } },
    },
  },
  renderer: {
    root: resolve(__dirname, 'renderer'),
    build: {
      target: 'chrome142',
      rollupOptions: { input: { index: resolve(__dirname, 'renderer/index.html') } },
    },
    plugins: [vue()],
  },
})
