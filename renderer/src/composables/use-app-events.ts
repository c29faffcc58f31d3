// Subscribe to main's AppEvents for the lifetime of the current effect scope (component or store).
import { onScopeDispose } from 'vue'
import type { AppEvent } from '../../../preload/api'
import { api } from '../api'

type EventOf<T extends AppEvent['type']> = Extract<AppEvent, { type: T }>

export function useAppEvents(listener: (event: AppEvent) => void): void {
  const off = api.onEvent(listener)
  onScopeDispose(off)
}

/** Only events of one type, already narrowed. */
export function useAppEvent<T extends AppEvent['type']>(
  type: T,
  listener: (event: EventOf<T>) => void,
): void {
  useAppEvents((e) => {
    if (e.type === type) listener(e as EventOf<T>)
  })
}
