/**
 * Reconnect delays.
 * @module
 */

/**
 * Capped exponential backoff with full jitter: a random delay in
 * `[0, min(maxMs, baseMs * 2^attempt))`, so clients dropped together do not return together.
 */
export function backoff(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  return random() * Math.min(maxMs, baseMs * 2 ** attempt)
}

/** A `Retry-After` header (seconds or an HTTP date) in milliseconds; 0 when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  if (header === null) return 0
  const seconds = Number(header)
  const ms = Number.isNaN(seconds) ? Date.parse(header) - now : seconds * 1_000
  return Math.max(ms, 0) || 0
}
