// Ambient types for the renderer: .vue single-file components and the preload bridge.
// No top-level import, so this stays a global declaration file.

declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, unknown>
  export default component
}

interface Window {
  /** Present only in Electron (preload/index.ts); browser mode uses the HTTP client instead. */
  api?: import('../../preload/api').WorkbenchApi
}
