/**
 * The client's numeric options, checked and given their defaults in one place.
 * @module
 */
import { MAX_TIMER_MS } from './backoff.js'
import { RtError } from './errors.js'
import type { ClientOptions, EventMap } from './types.js'

const DEFAULTS = {
  retryMs: 1_000,
  minRetryMs: 100,
  maxRetryMs: 30_000,
  connectTimeoutMs: 3_000,
  pollTimeoutMs: 25_000,
  minPollMs: 250,
  sseRetryMs: 60_000,
  ackDelayMs: 100,
  fallbackAfter: 3,
  maxMessageSize: 2 ** 20,
}

/** The numeric options, resolved. */
export type Settings = typeof DEFAULTS

/**
 * Every numeric option with its default, each a finite number up to 2^31-1 (what a timer
 * holds), from 0 for durations and from 1 for counts; otherwise throws
 * `RtError('invalid_option')`. (A `minRetryMs` above `maxRetryMs` is safe: delays then
 * fall between the two.)
 */
export function readSettings<Events extends EventMap>(options: ClientOptions<Events>): Settings {
  const settings = { ...DEFAULTS }
  let name: keyof Settings
  for (name in settings) {
    const value = options[name] ?? settings[name]
    // Durations (named `…Ms`) start at 0, counts at 1. `value === +value`: a number, not a
    // string that compares like one.
    if (!(value >= +!name.endsWith('Ms') && value <= MAX_TIMER_MS && value === +value)) {
      throw new RtError('invalid_option', `${name} out of range: ${value}`)
    }
    settings[name] = value
  }
  return settings
}
