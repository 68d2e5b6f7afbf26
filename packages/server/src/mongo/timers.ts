/**
 * The clock and timers the MongoDB integrations run on, injectable so tests drive time.
 * @module
 */

/** One-shot timers and a clock. */
export interface MongoTimers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
  /** Milliseconds since the epoch. */
  now(): number
}

/** Real timers, unref'd so a waiting source or lease never keeps a process alive alone. */
export const realTimers: MongoTimers = {
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms)
    ;(handle as { unref?: () => void }).unref?.()
    return handle
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(timers: MongoTimers, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const done = () => {
      timers.clearTimeout(handle)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const handle = timers.setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}
