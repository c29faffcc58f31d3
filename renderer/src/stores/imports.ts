// File import: the chosen file (upload, native dialog or allow-listed folder), its preview, the running
// job's progress from 'import.progress' events (fraction, rows/s, ETA) and cancel. On success the
// datasets store reloads and selects the new dataset.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { FileRef, ImportOptions, ImportPreview } from '../../../preload/api'
import { api, errorText } from '../api'
import { useAppEvent } from '../composables/use-app-events'
import { useDatasetsStore } from './datasets'

export interface ImportJob {
  /** Known from the first progress event: importDataset answers only when the job ends. */
  jobId: string | null
  fraction: number
  rowsPerSec: number
  etaSec: number
  message: string
  running: boolean
}

export const useImportsStore = defineStore('imports', () => {
  const file = ref<FileRef | null>(null)
  const preview = ref<ImportPreview | null>(null)
  const error = ref('')
  const job = ref<ImportJob | null>(null)
  const dataFiles = ref<FileRef[]>([])
  /** The file of the last finished import: the user may import it again with other settings. */
  const lastFile = ref<FileRef | null>(null)

  useAppEvent('import.progress', (e) => {
    const j = job.value
    if (!j || (j.jobId && j.jobId !== e.jobId)) return
    j.jobId = e.jobId
    Object.assign(j, { fraction: e.fraction, rowsPerSec: e.rowsPerSec, etaSec: e.etaSec, message: e.message })
  })

  /** Files under folders allow-listed at start (`serve --data DIR`): large files need no upload. */
  async function loadDataFiles(): Promise<void> {
    try {
      dataFiles.value = await api.listDataFiles()
    } catch (err) {
      error.value = errorText(err)
    }
  }

  async function useFile(ref: FileRef | null, format?: string): Promise<void> {
    if (!ref) return
    file.value = ref
    preview.value = null
    error.value = ''
    try {
      preview.value = await api.previewImport(ref.fileRef, format)
    } catch (err) {
      error.value = errorText(err)
    }
  }

  /** Re-read the preview when the user overrides the detected format. */
  async function setFormat(format: string): Promise<void> {
    await useFile(file.value, format || undefined)
  }

  async function upload(f: File): Promise<void> {
    error.value = ''
    try {
      await useFile(await api.uploadFile(f.name, await f.arrayBuffer()))
    } catch (err) {
      error.value = errorText(err)
    }
  }

  async function run(options: Omit<ImportOptions, 'fileRef'>): Promise<void> {
    if (!file.value) return
    error.value = ''
    job.value = { jobId: null, fraction: 0, rowsPerSec: 0, etaSec: 0, message: 'Starting…', running: true }
    try {
      const res = await api.importDataset({ ...options, fileRef: file.value.fileRef })
      job.value.jobId = res.jobId
      const datasets = useDatasetsStore()
      await datasets.refresh()
      await datasets.select(res.datasetId)
      lastFile.value = file.value
      file.value = null
      preview.value = null
    } catch (err) {
      error.value = errorText(err)
      // The bar of a failed import says nothing true any more: the error replaces it.
      job.value = null
    } finally {
      if (job.value) job.value.running = false
    }
  }

  async function cancel(): Promise<void> {
    const id = job.value?.jobId
    if (!id) return
    try {
      await api.cancelImport(id)
    } catch (err) {
      error.value = errorText(err)
    }
  }

  /** Back to the form with the last imported file (another threshold, k-core or split). */
  async function reimport(): Promise<void> {
    job.value = null
    await useFile(lastFile.value)
  }

  return {
    file,
    preview,
    error,
    job,
    dataFiles,
    lastFile,
    loadDataFiles,
    useFile,
    setFormat,
    upload,
    run,
    cancel,
    reimport,
  }
})
