/**
 * Every numeric option of the hub: delays a timer cannot hold (above 2^31-1 ms, where Node's
 * timers fire after 1 ms) and non-finite numbers are refused with `invalid_option`, in the
 * one message a value that is not a number gets too.
 */
import { describe, expect, test } from 'vitest'
import { isRtError } from './errors.js'
import { createHub } from './hub.js'
import { MAX_TIMER_MS } from './options.js'
import type { HubOptions } from './types.js'

const TIMER_OPTIONS = ['heartbeatMs', 'retryMs', 'pollTimeoutMs', 'coalesceMs'] as const
const COUNT_OPTIONS = ['maxConnectionsPerIdentity', 'maxConnections', 'maxBufferedBytes', 'maxTopics', 'maxQueryLength']

/** Calls `make` and returns what it threw. */
export function thrownBy(make: () => unknown): unknown {
  try {
    make()
  } catch (error) {
    return error
  }
  return undefined
}

describe('createHub numeric options', () => {
  test.each(TIMER_OPTIONS.flatMap((name) => [MAX_TIMER_MS + 1, 1e12, Infinity, Number.NaN].map((v) => [name, v])))(
    '%s = %s is refused with invalid_option',
    (name, value) => {
      const error = thrownBy(() => createHub({ [name]: value } as HubOptions))
      expect(isRtError(error)).toBe(true)
      const min = name === 'coalesceMs' ? 0 : 1
      // The same message as a value that is not a number at all (hub-options.test.ts).
      expect(error).toMatchObject({
        code: 'invalid_option',
        message: `createHub: ${name} must be a number of milliseconds from ${min} to ${MAX_TIMER_MS}, got number ${value}`,
      })
    },
  )

  test.each(COUNT_OPTIONS.flatMap((name) => [Infinity, Number.NaN, -1].map((v) => [name, v])))(
    '%s = %s is refused with invalid_option',
    (name, value) => {
      expect(thrownBy(() => createHub({ [name]: value } as HubOptions))).toMatchObject({
        code: 'invalid_option',
        message: `createHub: ${name} must be a positive finite number, got number ${value}`,
      })
    },
  )

  test('the longest delay a timer holds is accepted', async () => {
    const hub = createHub({ heartbeatMs: MAX_TIMER_MS, retryMs: MAX_TIMER_MS, pollTimeoutMs: MAX_TIMER_MS })
    expect(hub.options).toEqual({ heartbeatMs: MAX_TIMER_MS, retryMs: MAX_TIMER_MS })
    await hub.close()
  })
})
