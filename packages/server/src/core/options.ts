/**
 * Checks numeric options, for every entry point and backend: a number, finite, in range,
 * and delays no timer can overflow. The one place these rules and their messages live.
 * @module
 */
import { RtError } from './errors.js'

/**
 * The longest delay a timer holds, in ms (2^31-1, about 24.8 days). Node's and browsers'
 * timers fire after 1 ms when given more, so a larger delay option would turn a heartbeat
 * into a busy loop.
 */
export const MAX_TIMER_MS = 2_147_483_647

/** Whether `value` has a `then` method: a Promise, or something awaited like one. */
export function isThenable(value: unknown): boolean {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

/** What a value is, in words, for error messages: `the string "15000"`, `number NaN`, `null`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (isThenable(value)) return 'a Promise'
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`
  return `a ${typeof value === 'object' ? 'plain object' : typeof value}`
}

/**
 * The one rule for a numeric option that is out of shape or out of range, whatever it is
 * (a string, NaN, a negative count, a delay a timer cannot hold): one message that says
 * what was expected and what came.
 */
function invalid(who: string, name: string, rule: string, value: unknown): RtError {
  return new RtError('invalid_option', `${who}: ${name} must be ${rule}, got ${describeValue(value)}`)
}

/**
 * A delay or interval in ms: a finite number from `min` to {@link MAX_TIMER_MS}, or
 * `fallback` when absent. Throws `RtError('invalid_option')` otherwise.
 */
export function durationOption(who: string, name: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > MAX_TIMER_MS) {
    throw invalid(who, name, `a number of milliseconds from ${min} to ${MAX_TIMER_MS}`, value)
  }
  return value
}

/**
 * A size or count: a positive finite number (a whole one with `integer`), or `fallback`
 * when absent. Throws `RtError('invalid_option')` otherwise.
 */
export function countOption(who: string, name: string, value: unknown, fallback: number, integer = false): number {
  if (value === undefined) return fallback
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    !(value > 0) ||
    value > Number.MAX_SAFE_INTEGER ||
    (integer && !Number.isInteger(value))
  ) {
    throw invalid(who, name, integer ? 'a positive integer' : 'a positive finite number', value)
  }
  return value
}
