// Worker bootstrap when main runs under tsx (npm run serve, tests): registers the TypeScript loader in
// this thread, then loads the real entry. Built apps (electron-vite) start the bundled .js directly.
import { register } from 'tsx/esm/api'
import { workerData } from 'node:worker_threads'

register()
await import(workerData.entryUrl)
