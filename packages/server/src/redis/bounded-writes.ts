/**
 * Appends while Redis may be unreachable: written at once when it is up; otherwise they
 * wait, bounded in number and in time, and fail with code `unavailable` past either bound.
 * A write that timed out is aborted before it is sent, so it is never applied later.
 * @module
 */
import { isRtError } from '../index.js'
import { unavailable } from './client.js'

export interface BoundedWrites {
  /** Writes waiting for Redis right now, for `status()`. */
  readonly pending: number
  run<T>(write: (signal: AbortSignal | undefined) => Promise<T>): Promise<T>
}

export function boundedWrites(
  who: string,
  isReady: () => boolean,
  maxPending: number,
  timeoutMs: number,
): BoundedWrites {
  let pending = 0
  return {
    get pending() {
      return pending
    },
    async run(write) {
      const ready = isReady()
      if (!ready && pending >= maxPending) {
        throw unavailable(who, undefined, `${pending} publishes are waiting for Redis`)
      }
      pending++
      try {
        return await write(ready ? undefined : AbortSignal.timeout(timeoutMs))
      } catch (error) {
        if (isRtError(error)) throw error
        throw unavailable(who, error)
      } finally {
        pending--
      }
    },
  }
}
