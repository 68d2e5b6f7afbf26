/**
 * The MongoDB log and change-stream source refuse delay options a timer cannot hold (above
 * 2^31-1 ms) or that are not finite, before they touch the database.
 */
import type { Collection, Db } from 'mongodb'
import { describe, expect, test } from 'vitest'
import { MAX_TIMER_MS } from '../index.js'
import { mongoChangeStream, mongoLog } from './index.js'

/** Fails any call: an option check that let the call through would fail differently. */
const unreachable = new Proxy(
  {},
  {
    get: (_target, key) => (key === 'then' ? undefined : () => Promise.reject(new Error(`touched ${String(key)}`))),
  },
)
const db = { collection: () => unreachable, databaseName: 'app' } as unknown as Db
const collection = { dbName: 'app', collectionName: 'posts' } as unknown as Collection
const BAD = [MAX_TIMER_MS + 1, Infinity, Number.NaN]

describe('MongoDB delay options', () => {
  test.each(BAD.flatMap((v) => [['pollMs', v] as const, ['gapMs', v] as const]))(
    'mongoLog %s = %s is refused with invalid_option',
    async (name, value) => {
      await expect(mongoLog({ db, [name]: value })).rejects.toMatchObject({ code: 'invalid_option' })
    },
  )

  test('mongoLog retention must be finite', async () => {
    await expect(mongoLog({ db, retention: { maxAgeMs: Infinity } })).rejects.toMatchObject({ code: 'invalid_option' })
  })

  test.each(
    BAD.flatMap((v) => [
      [{ checkpointMs: v }, 'checkpointMs'] as const,
      [{ maxAwaitTimeMS: v }, 'maxAwaitTimeMS'] as const,
      [{ backoff: { initialMs: v } }, 'backoff.initialMs'] as const,
      [{ backoff: { maxMs: v } }, 'backoff.maxMs'] as const,
      [{ lease: { ttlMs: v } }, 'lease.ttlMs'] as const,
      [{ lease: { renewMs: v } }, 'lease.renewMs'] as const,
    ]),
  )('mongoChangeStream %o is refused with invalid_option', (options, name) => {
    const make = () => mongoChangeStream({ collection, map: () => null, ...options })
    expect(make).toThrow(expect.objectContaining({ code: 'invalid_option', message: expect.stringContaining(name) }))
  })
})
