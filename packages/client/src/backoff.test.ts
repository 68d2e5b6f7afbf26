import { describe, expect, test } from 'vitest'
import { backoff, retryAfterMs } from './backoff.js'

describe('backoff', () => {
  test('full jitter: from 0 up to base * 2^attempt', () => {
    expect(backoff(0, 100, 10_000, () => 0)).toBe(0)
    expect(backoff(0, 100, 10_000, () => 0.999)).toBeCloseTo(99.9)
    expect(backoff(3, 100, 10_000, () => 0.5)).toBe(400)
  })

  test('capped at maxMs however many attempts failed', () => {
    expect(backoff(40, 100, 10_000, () => 0.999)).toBeCloseTo(9_990)
    expect(backoff(2_000, 100, 10_000, () => 0.5)).toBe(5_000)
  })
})

describe('retryAfterMs', () => {
  test('seconds, an HTTP date, and anything else', () => {
    expect(retryAfterMs('5')).toBe(5_000)
    const now = Date.parse('2030-01-01T00:00:00Z')
    expect(retryAfterMs('Tue, 01 Jan 2030 00:00:07 GMT', now)).toBe(7_000)
    expect(retryAfterMs(null)).toBe(0)
    expect(retryAfterMs('soon')).toBe(0)
    expect(retryAfterMs('-3')).toBe(0)
  })
})
