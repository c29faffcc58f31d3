// Undo for deletes: a deleted dataset or run goes to the server's trash, and the toast offers to bring
// it back for a few seconds (the trash itself keeps it for a day).
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { errorText } from '../api'

export const UNDO_WINDOW_MS = 10_000

interface Offer {
  message: string
  undo: () => Promise<void>
}

export const useUndoStore = defineStore('undo', () => {
  const offer = ref<Offer | null>(null)
  const error = ref('')
  let timer: ReturnType<typeof setTimeout> | undefined

  function show(message: string, undo: () => Promise<void>): void {
    clearTimeout(timer)
    offer.value = { message, undo }
    error.value = ''
    timer = setTimeout(() => (offer.value = null), UNDO_WINDOW_MS)
  }

  async function undo(): Promise<void> {
    const o = offer.value
    if (!o) return
    clearTimeout(timer)
    offer.value = null
    try {
      await o.undo()
    } catch (err) {
      error.value = errorText(err)
    }
  }

  function dismiss(): void {
    clearTimeout(timer)
    offer.value = null
    error.value = ''
  }

  return { offer, error, show, undo, dismiss }
})
