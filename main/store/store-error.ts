// The store's own error (bad state, missing rows); busy.ts and db.ts both need it.
export class StoreError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'StoreError'
  }
}
