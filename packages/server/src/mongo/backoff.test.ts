import { describe, expect, test } from 'vitest'
import { backoffDelay } from './backoff.js'

describe('backoffDelay', () => {
  test('doubles per attempt up to the cap, within the upper half of each step', () => {
    const options = { initialMs: 100, maxMs: 1_000 }
    const low = [0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, { ...options, random: () => 0 }))
    const high = [0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, { ...options, random: () => 0.999999 }))
    expect(low).toEqual([50, 100, 200, 400, 500, 500])
    expect(high).toEqual([100, 200, 400, 800, 1_000, 1_000])
  })

  test('spreads nodes that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(5)))
    expect(delays.size).toBeGreaterThan(10)
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(8_000)
  })
})
