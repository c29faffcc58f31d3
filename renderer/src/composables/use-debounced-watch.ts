// Watch a source and run an async job after the user pauses; stale answers are dropped, so a slow
// reply to an old edit never overwrites the preview of a newer one.
import { onScopeDispose, watch, type WatchSource } from 'vue'

export function useDebouncedWatch<T>(
  source: WatchSource<T>,
  job: (value: T) => Promise<void>,
  delayMs = 300,
): void {
  let timer: ReturnType<typeof setTimeout> | null = null
  watch(
    source,
    (value) => {
      if (timer) clearTimeout(timer)
      timer = setTimeout(() => void job(value), delayMs)
    },
    { deep: true, immediate: true },
  )
  onScopeDispose(() => {
    if (timer) clearTimeout(timer)
  })
}
