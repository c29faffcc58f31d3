// Datasets: list, selected detail + statistics, file import (preview, options, progress, cancel), demo.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type {
  DatasetDetail,
  DatasetSummary,
  FileRef,
  ImportOptions,
  ImportPreview,
} from '../../../preload/api'
import { api, errorText } from '../api'
import { useAppEvent } from '../composables/use-app-events'

export interface ImportJob {
  jobId: string | null
  fraction: number
  rowsPerSec: number
  etaSec: number
  message: string
  running: boolean
}

export const useDatasetsStore = defineStore('datasets', () => {
  const list = ref<DatasetSummary[]>([])
  const listError = ref('')
  const selected = ref<DatasetDetail | null>(null)
  const detailError = ref('')
  const file = ref<FileRef | null>(null)
  const preview = ref<ImportPreview | null>(null)
  const importError = ref('')
  const job = ref<ImportJob | null>(null)
  const busy = ref(false)
  const dataFiles = ref<FileRef[]>([])

  useAppEvent('import.progress', (e) => {
    const j = job.value
    if (!j || (j.jobId && j.jobId !== e.jobId)) return
    j.jobId = e.jobId
    Object.assign(j, { fraction: e.fraction, rowsPerSec: e.rowsPerSec, etaSec: e.etaSec, message: e.message })
    // importDataset may answer before the job ends; the final event is the cue to reload the list.
    if (e.fraction >= 1) void refresh()
  })

  async function refresh(): Promise<void> {
    try {
      list.value = await api.listDatasets()
      listError.value = ''
    } catch (err) {
      listError.value = errorText(err)
    }
  }

  /** Files under folders allow-listed at start (`serve --data DIR`): large files need no upload. */
  async function loadDataFiles(): Promise<void> {
    try {
      dataFiles.value = await api.listDataFiles()
    } catch (err) {
      importError.value = errorText(err)
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

  async function useFile(ref: FileRef | null, format?: string): Promise<void> {
    if (!ref) return
    file.value = ref
    preview.value = null
    importError.value = ''
    try {
      preview.value = await api.previewImport(ref.fileRef, format)
    } catch (err) {
      importError.value = errorText(err)
    }
  }

  /** Re-read the preview when the user overrides the detected format. */
  async function setFormat(format: string): Promise<void> {
    await useFile(file.value, format || undefined)
  }

  async function upload(f: File): Promise<void> {
    importError.value = ''
    try {
      await useFile(await api.uploadFile(f.name, await f.arrayBuffer()))
    } catch (err) {
      importError.value = errorText(err)
    }
  }

  async function runImport(options: Omit<ImportOptions, 'fileRef'>): Promise<void> {
    if (!file.value) return
    importError.value = ''
    job.value = { jobId: null, fraction: 0, rowsPerSec: 0, etaSec: 0, message: 'Starting…', running: true }
    try {
      const res = await api.importDataset({ ...options, fileRef: file.value.fileRef })
      job.value.jobId = res.jobId
      await refresh()
      await select(res.datasetId)
      file.value = null
      preview.value = null
    } catch (err) {
      importError.value = errorText(err)
    } finally {
      if (job.value) job.value.running = false
    }
  }

  async function cancelImport(): Promise<void> {
    const id = job.value?.jobId
    if (!id) return
    try {
      await api.cancelImport(id)
    } catch (err) {
      importError.value = errorText(err)
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

  async function remove(id: number): Promise<void> {
    try {
      await api.deleteDataset(id)
      if (selected.value?.id === id) selected.value = null
      await refresh()
    } catch (err) {
      listError.value = errorText(err)
    }
  }

  return {
    list,
    listError,
    selected,
    detailError,
    file,
    preview,
    importError,
    job,
    busy,
    dataFiles,
    loadDataFiles,
    refresh,
    select,
    useFile,
    setFormat,
    upload,
    runImport,
    cancelImport,
    createDemo,
    remove,
  }
})
