// The engine worker's cache of datasets, trained sessions and tokenizers: inspection calls come in
// bursts, often several at once for the same run, and a session holds tensors that must be freed.

interface Entry<T> {
  loading: Promise<T>
  /** Calls inside `use` now: a value is dropped only when none is left. */
  users: number
  evicted: boolean
}

/**
 * The last `size` values by key, each loaded once: overlapping calls for a key share one load, a value
 * pushed out is handed to `drop` once its load has settled and no call still uses it, and a failed
 * load is not kept.
 */
export class LoadCache<T> {
  private readonly entries = new Map<string, Entry<T>>()

  constructor(
    private readonly size: number,
    private readonly drop?: (value: T) => void,
  ) {}

  /** Runs `fn` on the key's value; the value stays alive until `fn` has settled. */
  async use<R>(key: string, load: () => Promise<T>, fn: (value: T) => R | Promise<R>): Promise<R> {
    const entry = this.acquire(key, load)
    try {
      return await fn(await entry.loading)
    } finally {
      entry.users--
      this.dropIfUnused(entry)
    }
  }

  /** Waits for every load and drops every value no call still uses (the worker's shutdown). */
  async clear(): Promise<void> {
    const all = [...this.entries.values()]
    this.entries.clear()
    for (const entry of all) {
      entry.evicted = true
      this.dropIfUnused(entry)
    }
    await Promise.allSettled(all.map((e) => e.loading))
  }

  private acquire(key: string, load: () => Promise<T>): Entry<T> {
    const hit = this.entries.get(key)
    if (hit) {
      // Most recently used last: eviction takes the first.
      this.entries.delete(key)
      this.entries.set(key, hit)
      hit.users++
      return hit
    }
    const entry: Entry<T> = { loading: load(), users: 1, evicted: false }
    this.entries.set(key, entry)
    entry.loading.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key)
    })
    while (this.entries.size > this.size) {
      const [oldKey, old] = this.entries.entries().next().value as [string, Entry<T>]
      this.entries.delete(oldKey)
      old.evicted = true
      this.dropIfUnused(old)
    }
    return entry
  }

  private dropIfUnused(entry: Entry<T>): void {
    if (!entry.evicted || entry.users > 0 || !this.drop) return
    const drop = this.drop
    entry.loading.then(
      (value) => {
        // A later `use` cannot reach an evicted entry, so no user can appear after this check.
        if (entry.users === 0) drop(value)
      },
      () => undefined,
    )
  }
}
