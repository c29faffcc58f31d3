// Browser-mode build of the renderer (served by main/server): same Vue app as Electron, output in
// renderer/dist with relative asset URLs so the server can mount it anywhere.
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

const root = fileURLToPath(new URL('.', import.meta.url))

export default defineConfig({
  root,
  base: './',
  plugins: [vue()],
  build: {
    outDir: resolve(root, 'dist'),
    emptyOutDir: true,
    target: 'chrome120',
    rollupOptions: { input: { index: resolve(root, 'index.html') } },
  },
})
