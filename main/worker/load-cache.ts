// The engine worker's cache of datasets, trained sessions and tokenizers: inspection calls come in
// bursts, often several at once for the same run, and a session holds tensors that must be freed.

/**
 * The last `size` values by key, each loaded once: overlapping gets of a key share one load, a value
 * pushed out is handed to `drop` once its load has settled, and a failed load is not kept.
 */
export class LoadCache<T> {
  private readonly entries = new Map<string, Promise<T>>()

  constructor(
    private readonly size: number,
    private readonly drop?: (value: T) => void,
  ) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key)
    if (hit) {
      // Most recently used last: eviction takes the first.
      this.entries.delete(key)
      this.entries.set(key, hit)
      return hit
    }
    const loading = load()
    this.entries.set(key, loading)
    loading.catch(() => {
      if (this.entries.get(key) === loading) this.entries.delete(key)
    })
    while (this.entries.size > this.size) {
      const [oldKey, old] = this.entries.entries().next().value as [string, Promise<T>]
      this.entries.delete(oldKey)
      if (this.drop) old.then(this.drop, () => undefined)
    }
    return loading
  }

  /** Waits for every load and drops every value (the worker's shutdown). */
  async clear(): Promise<void> {
    const all = [...this.entries.values()]
    this.entries.clear()
    for (const r of await Promise.allSettled(all)) if (r.status === 'fulfilled') this.drop?.(r.value)
  }
}
