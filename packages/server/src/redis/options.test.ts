/**
 * The Redis backends refuse delay options a timer cannot hold (above 2^31-1 ms) or that are
 * not finite, before they connect.
 */
import { describe, expect, test } from 'vitest'
import { MAX_TIMER_MS } from '../index.js'
import { redisBus, redisLog, redisPresence } from './index.js'

/** Nothing listens here: an option check that let the call through would fail differently. */
const target = { url: 'redis://127.0.0.1:1' }
const BAD = [MAX_TIMER_MS + 1, Infinity, Number.NaN]

describe('Redis delay options', () => {
  test.each([
    ...BAD.flatMap((v) => [
      ['redisBus', 'publishTimeoutMs', v] as const,
      ['redisBus', 'catchUpMs', v] as const,
      ['redisLog', 'publishTimeoutMs', v] as const,
      ['redisLog', 'catchUpMs', v] as const,
      ['redisPresence', 'ttlMs', v] as const,
      ['redisPresence', 'heartbeatMs', v] as const,
    ]),
  ])('%s %s = %s is refused with invalid_option', async (factory, name, value) => {
    const options = { [name]: value }
    const made =
      factory === 'redisBus'
        ? redisBus(target, options)
        : factory === 'redisLog'
          ? redisLog({ ...target, stream: 'rt:test' }, options)
          : redisPresence(target, options)
    await expect(made).rejects.toMatchObject({ code: 'invalid_option', message: expect.stringContaining(name) })
  })
})
