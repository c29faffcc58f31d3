// Datasets: the list, the selected dataset's detail + statistics, the synthetic demo, delete.
// File import lives in ./imports.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { DatasetDetail, DatasetSummary } from '../../../preload/api'
import { api, errorText } from '../api'
import { useUndoStore } from './undo'

export const useDatasetsStore = defineStore('datasets', () => {
  const list = ref<DatasetSummary[]>([])
  const listError = ref('')
  const selected = ref<DatasetDetail | null>(null)
  const detailError = ref('')
  const busy = ref(false)

  async function refresh(): Promise<void> {
    try {
      list.value = await api.listDatasets()
      listError.value = ''
    } catch (err) {
      listError.value = errorText(err)
    }
  }

  async function select(id: number): Promise<void> {
    try {
      selected.value = await api.getDataset(id)
      detailError.value = ''
    } catch (err) {
      detailError.value = errorText(err)
    }
  }

  async function createDemo(seed = 1): Promise<void> {
    busy.value = true
    listError.value = ''
    try {
      const ds = await api.createDemoDataset({ seed })
      await refresh()
      await select(ds.id)
    } catch (err) {
      listError.value = errorText(err)
    } finally {
      busy.value = false
    }
  }

  /** To the trash, with an undo offer: the dataset and its runs come back whole. */
  async function remove(id: number): Promise<void> {
    const name = list.value.find((d) => d.id === id)?.name ?? `#${id}`
    try {
      await api.deleteDataset(id)
      if (selected.value?.id === id) selected.value = null
      await refresh()
      useUndoStore().show(`Dataset '${name}' deleted.`, async () => {
        await api.restoreDataset(id)
        await refresh()
        await select(id)
      })
    } catch (err) {
      listError.value = errorText(err)
    }
  }

  return { list, listError, selected, detailError, busy, refresh, select, createDemo, remove }
})
