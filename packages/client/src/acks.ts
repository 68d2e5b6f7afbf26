/**
 * Batched acknowledgements: ids collected for a short while, sent in one request.
 * @module
 */
import type { Timers } from './types.js'

/** The server takes at most this many ids per request. */
const BATCH = 1_000
/** Ids kept while the server cannot be reached; older ones are covered by `Last-Event-ID`. */
const KEEP = 10_000

export interface Acks {
  add(id: string): void
  /** Sends what is pending now (page hidden); `final` also stops retrying (client closing). */
  flush(final?: boolean): void
}

/**
 * Creates a batcher. `send` posts one batch and resolves to `true` when it was taken,
 * `false` when it may be tried again later; refused batches resolve `true` (dropped).
 */
export function createAcks(
  send: (ids: string[]) => Promise<boolean>,
  timers: Timers,
  delayMs: number,
  maxMs: number,
): Acks {
  let pending: string[] = []
  let timer: unknown
  let failures = 0
  let stopped = false
  const schedule = (ms: number) => {
    timer ??= timers.setTimeout(flush, ms)
  }
  function flush(final = false): void {
    stopped ||= final
    timers.clearTimeout(timer)
    timer = undefined
    while (pending.length > 0) {
      const ids = pending.splice(0, BATCH)
      send(ids).then(
        (taken) => {
          if (taken || stopped) {
            failures = 0
            return
          }
          pending = [...ids, ...pending].slice(-KEEP)
          schedule(Math.min(maxMs, delayMs * 2 ** ++failures))
        },
        () => {},
      )
    }
  }
  return {
    add(id) {
      pending.push(id)
      if (pending.length >= BATCH) flush()
      else schedule(delayMs)
    },
    flush,
  }
}
