/**
 * createClient refuses millisecond and count options a timer cannot hold, with a typed error.
 */
import { describe, expect, test } from 'vitest'
import { createClient } from './client.js'
import { isRtError } from './errors.js'
import type { ClientOptions } from './types.js'

const MS_OPTIONS = [
  'retryMs',
  'minRetryMs',
  'maxRetryMs',
  'connectTimeoutMs',
  'pollTimeoutMs',
  'minPollMs',
  'sseRetryMs',
  'ackDelayMs',
] as const

/** Throws what createClient throws, without ever opening a request. */
function attempt(options: Partial<ClientOptions>): unknown {
  const ac = new AbortController()
  ac.abort()
  try {
    createClient({ url: 'http://rt.test/events', topics: ['t'], signal: ac.signal, ...options }).close()
  } catch (error) {
    return error
  }
  return undefined
}

describe.each(MS_OPTIONS)('%s', (name) => {
  test.each([2 ** 31, Number.POSITIVE_INFINITY, Number.NaN, -1, 1e20])('%s is refused with invalid_option', (value) => {
    const error = attempt({ [name]: value })
    expect(isRtError(error) && [error.code, error.message.includes(name)]).toEqual(['invalid_option', true])
  })

  test('the largest value a timer holds is accepted', () => {
    expect(attempt({ [name]: 2 ** 31 - 1, maxRetryMs: 2 ** 31 - 1 })).toBeUndefined()
  })
})

test('counts and sizes must be positive integers', () => {
  for (const options of [
    { fallbackAfter: 0 },

    { maxMessageSize: 0 },
    { maxMessageSize: Number.NaN },
    { retryMs: '5' as unknown as number },
  ]) {
    const error = attempt(options)
    expect(isRtError(error) && error.code).toBe('invalid_option')
  }
  expect(attempt({ fallbackAfter: 1, maxMessageSize: 1_024 })).toBeUndefined()
})
