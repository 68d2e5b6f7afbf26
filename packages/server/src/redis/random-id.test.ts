import { expect, test } from 'vitest'
import { randomId } from './client.js'

test('random ids from the pool: base-36 pairs, never repeated across refills', () => {
  const ids = Array.from({ length: 3_000 }, (_, i) => randomId(i % 2 === 0 ? 6 : 8))
  for (const [i, id] of ids.entries()) expect(id).toMatch(i % 2 === 0 ? /^[0-9a-z]{12}$/ : /^[0-9a-z]{16}$/)
  expect(new Set(ids).size).toBe(ids.length)
})
