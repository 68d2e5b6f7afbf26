import { afterEach, describe, expect, test } from 'vitest'
import { dropKeys, REDIS_URL, redisClient, testPrefix } from '../../test/redis-support.js'
import type { PresenceBackend, PresenceChange } from '../core/presence.js'
import { type RedisPresenceOptions, redisPresence } from './presence.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function freshPrefix(): string {
  const prefix = testPrefix('presence')
  cleanups.push(() => dropKeys(prefix))
  return prefix
}

async function open(
  prefix: string,
  options: RedisPresenceOptions = {},
  target: Parameters<typeof redisPresence>[0] = { url: REDIS_URL },
) {
  const backend = await redisPresence(target, { prefix, ...options })
  cleanups.push(() => backend.close?.() ?? Promise.resolve())
  return backend
}

function changesOf(backend: PresenceBackend) {
  const changes: PresenceChange[] = []
  let resyncs = 0
  backend.subscribe(
    (change) => changes.push(change),
    () => resyncs++,
  )
  return { changes, resyncs: () => resyncs }
}

const sorted = async (p: Promise<string[]>) => (await p).sort()

describe('redisPresence', () => {
  test('a user joins with their first stream anywhere and leaves with their last everywhere', async () => {
    const prefix = freshPrefix()
    const [a, b] = [await open(prefix), await open(prefix)]
    const seen = changesOf(b)
    a.join('room', 'u1')
    await expect.poll(() => seen.changes).toEqual([{ topic: 'room', joined: 'u1' }])
    expect(await b.online('room')).toEqual(['u1'])
    // Also on b: no second join.
    b.join('room', 'u1')
    b.join('room', 'u2')
    await expect.poll(() => sorted(a.online('room'))).toEqual(['u1', 'u2'])
    a.leave('room', 'u1')
    b.leave('room', 'u2')
    await expect.poll(() => seen.changes.length).toBe(3)
    expect(await b.online('room')).toEqual(['u1'])
    b.leave('room', 'u1')
    await expect.poll(() => seen.changes.length).toBe(4)
    expect(seen.changes).toEqual([
      { topic: 'room', joined: 'u1' },
      { topic: 'room', joined: 'u2' },
      { topic: 'room', left: 'u2' },
      { topic: 'room', left: 'u1' },
    ])
    expect(await a.online('room')).toEqual([])
    expect(await a.online('elsewhere')).toEqual([])
  })

  test('closing a node leaves everything it held at once', async () => {
    const prefix = freshPrefix()
    const [a, b] = [await open(prefix), await open(prefix)]
    const seen = changesOf(b)
    a.join('r1', 'u1')
    a.join('r2', 'u1')
    await expect.poll(() => seen.changes.length).toBe(2)
    await a.close?.()
    await expect.poll(() => seen.changes.length).toBe(4)
    expect(seen.changes.slice(2).sort((x, y) => x.topic.localeCompare(y.topic))).toEqual([
      { topic: 'r1', left: 'u1' },
      { topic: 'r2', left: 'u1' },
    ])
  })

  test('a node that stops renewing is removed by the others after its TTL', async () => {
    const prefix = freshPrefix()
    const client = await redisClient()
    const ttlMs = 600
    const dying = await open(prefix, { ttlMs, heartbeatMs: 100 }, { client })
    const b = await open(prefix, { ttlMs, heartbeatMs: 100 })
    const seen = changesOf(b)
    dying.join('room', 'u1')
    await expect.poll(() => b.online('room')).toEqual(['u1'])
    // Its command connection is gone: no more heartbeats, no goodbye.
    client.destroy()
    const diedAt = Date.now()
    await expect.poll(() => b.online('room'), { timeout: 5_000, interval: 50 }).toEqual([])
    const tookMs = Date.now() - diedAt
    // Expired by its TTL (ttlMs + heartbeatMs), with a generous multiple for a busy machine.
    expect(tookMs).toBeLessThanOrEqual(4 * (ttlMs + 100))
    expect(seen.changes.at(-1)).toEqual({ topic: 'room', left: 'u1' })
  })

  test('a node re-registers what it holds when Redis lost it', async () => {
    const prefix = freshPrefix()
    const a = await open(prefix, { ttlMs: 600, heartbeatMs: 100 })
    a.join('room', 'u1')
    a.join('room', 'u2')
    await expect.poll(() => sorted(a.online('room'))).toEqual(['u1', 'u2'])
    a.leave('room', 'u2')
    await expect.poll(() => a.online('room')).toEqual(['u1'])
    await dropKeys(prefix)
    expect(await a.online('room')).toEqual([])
    await expect.poll(() => a.online('room'), { timeout: 3_000, interval: 50 }).toEqual(['u1'])
  })
})
