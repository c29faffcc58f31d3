// The event bus for AppEvent (run progress, metrics, status, import progress). Hosts subscribe once:
// Electron forwards to the window's webContents, browser mode pushes over the /events WebSocket.
import type { AppEvent } from '../../preload/api'

export type EventListener = (event: AppEvent) => void

export class EventBus {
  private readonly listeners = new Set<EventListener>()

  /** Returns the unsubscribe function. */
  on(listener: EventListener): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  emit(event: AppEvent): void {
    for (const l of [...this.listeners]) {
      // One broken subscriber (a closed socket) must not stop the others or the training relay.
      try {
        l(event)
      } catch (err) {
        console.error('[events] listener failed:', err)
      }
    }
  }

  get size(): number {
    return this.listeners.size
  }
}
