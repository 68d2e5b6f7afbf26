/**
 * Exponential backoff with jitter, for restarting a change stream that died.
 * @module
 */

/** Options of a backoff. */
export interface BackoffOptions {
  /** Delay before the first retry. @default 500 */
  initialMs?: number
  /** Longest delay. @default 30_000 */
  maxMs?: number
  /** A number in [0, 1), for tests. @default Math.random */
  random?: () => number
}

/**
 * The delay before retry number `attempt` (0 for the first): `initialMs * 2^attempt`
 * capped at `maxMs`, then drawn uniformly from its upper half so that nodes which failed
 * together do not retry together.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? 500
  const max = options.maxMs ?? 30_000
  const random = options.random ?? Math.random
  const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 30))
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}
