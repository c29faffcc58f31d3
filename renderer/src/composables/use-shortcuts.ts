// Global keyboard shortcuts, registered per scope and removed on dispose. Keys are written as
// 'mod+1', 'mod+enter', 'escape', '?': 'mod' is Ctrl on Linux/Windows and Cmd on macOS.
import { onScopeDispose } from 'vue'

export type ShortcutMap = Record<string, (e: KeyboardEvent) => void>

function keyName(e: KeyboardEvent): string {
  const mod = e.ctrlKey || e.metaKey
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key.toLowerCase()
  return (mod ? 'mod+' : '') + key
}

function isTyping(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null
  if (!t) return false
  return t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName)
}

export function useShortcuts(map: ShortcutMap): void {
  const onKey = (e: KeyboardEvent): void => {
    const name = keyName(e)
    const handler = map[name]
    if (!handler) return
    // Plain keys ('?') must not fire while the user types; modifier combos and Escape always do.
    if (!name.startsWith('mod+') && name !== 'escape' && isTyping(e)) return
    e.preventDefault()
    handler(e)
  }
  window.addEventListener('keydown', onKey)
  onScopeDispose(() => window.removeEventListener('keydown', onKey))
}
