import { describe, expect, test } from 'vitest'
import { backoff, clamp, MAX_TIMER_MS, retryAfterMs } from './backoff.js'

describe('backoff', () => {
  test('full jitter above the floor: from floor up to floor + base * 2^attempt', () => {
    expect(backoff(0, 100, 100, 10_000, () => 0)).toBe(100)
    expect(backoff(0, 100, 100, 10_000, () => 0.999)).toBeCloseTo(199.9)
    expect(backoff(3, 100, 100, 10_000, () => 0.5)).toBe(500)
  })

  test('capped at maxMs however many attempts failed', () => {
    expect(backoff(40, 100, 100, 10_000, () => 0.999)).toBeCloseTo(9_990.1)
    expect(backoff(2_000, 100, 0, 10_000, () => 0.5)).toBe(5_000)
    expect(backoff(2_000, 100, 100, 10_000, () => 0.999_999)).toBeLessThan(10_000)
  })
})

describe('retryAfterMs', () => {
  test('seconds, an HTTP date, and anything else', () => {
    expect(retryAfterMs('5', MAX_TIMER_MS)).toBe(5_000)
    const now = Date.parse('2030-01-01T00:00:00Z')
    expect(retryAfterMs('Tue, 01 Jan 2030 00:00:07 GMT', MAX_TIMER_MS, now)).toBe(7_000)
    expect(retryAfterMs(null, MAX_TIMER_MS)).toBe(0)
    expect(retryAfterMs('soon', MAX_TIMER_MS)).toBe(0)
    expect(retryAfterMs('-3', MAX_TIMER_MS)).toBe(0)
  })

  test('never more than a timer holds', () => {
    expect(retryAfterMs('99999999999', MAX_TIMER_MS)).toBe(MAX_TIMER_MS)
    expect(retryAfterMs('Infinity', MAX_TIMER_MS)).toBe(MAX_TIMER_MS)
    expect(retryAfterMs('Fri, 31 Dec 9999 23:59:59 GMT', MAX_TIMER_MS)).toBe(MAX_TIMER_MS)
    expect(retryAfterMs('60', 30_000)).toBe(30_000)
  })
})

test('clamp: within bounds, and NaN is the floor', () => {
  expect(clamp(5, 10, 20)).toBe(10)
  expect(clamp(50, 10, 20)).toBe(20)
  expect(clamp(Number.NaN, 10, 20)).toBe(10)
  expect(clamp(Number.POSITIVE_INFINITY, 10, 20)).toBe(20)
})
