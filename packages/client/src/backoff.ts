/**
 * Reconnect delays, and the bounds every delay is kept within.
 * @module
 */

/** The longest delay a timer holds: Node's timers fire after 1 ms for anything above. */
export const MAX_TIMER_MS = 2 ** 31 - 1

/** `ms` within `[floor, ceiling]`; not a number counts as the floor. */
export const clamp = (ms: number, floor: number, ceiling: number): number =>
  Math.min(Math.max(ms, floor) || floor, ceiling)

/**
 * Capped exponential backoff with full jitter above a floor: a random delay in
 * `[floorMs, floorMs + min(maxMs - floorMs, baseMs * 2^attempt))`, so clients dropped
 * together do not return together, and a server that says `retry: 0` cannot make them
 * return at once.
 */
export function backoff(attempt: number, baseMs: number, floorMs: number, maxMs: number, random: () => number): number {
  return floorMs + random() * Math.min(maxMs - floorMs, baseMs * 2 ** attempt)
}

/**
 * A `Retry-After` header (seconds or an HTTP date) in milliseconds, at most `maxMs`;
 * 0 when absent or unreadable.
 */
export function retryAfterMs(header: string | null, maxMs: number, now = Date.now()): number {
  if (header === null) return 0
  const seconds = Number(header)
  const ms = Number.isNaN(seconds) ? Date.parse(header) - now : seconds * 1_000
  return clamp(ms, 0, maxMs)
}
