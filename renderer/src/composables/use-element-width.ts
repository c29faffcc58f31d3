// Track an element's width so SVG charts draw in real pixels (text stays legible at any size)
// instead of scaling a fixed viewBox. The observer is disconnected with the owning scope.
import { onScopeDispose, ref, watch, type Ref } from 'vue'

export function useElementWidth(el: Ref<HTMLElement | null>, fallback: number): Ref<number> {
  const width = ref(fallback)
  const ro = new ResizeObserver((entries) => {
    const w = Math.floor(entries[0]?.contentRect.width ?? 0)
    if (w > 0 && w !== width.value) width.value = w
  })
  watch(
    el,
    (node, old) => {
      if (old) ro.unobserve(old)
      if (node) ro.observe(node)
    },
    { immediate: true },
  )
  onScopeDispose(() => ro.disconnect())
  return width
}
