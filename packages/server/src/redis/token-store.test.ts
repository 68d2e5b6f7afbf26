import { afterEach, describe, expect, test } from 'vitest'
import { dropKeys, REDIS_URL, redisClient, testPrefix } from '../../test/redis-support.js'
import { type RedisTokenStore, redisTokenStore } from './token-store.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function open(prefix: string): Promise<RedisTokenStore> {
  const store = await redisTokenStore({ url: REDIS_URL }, { prefix })
  cleanups.push(() => store.close())
  return store
}

function freshPrefix(): string {
  const prefix = testPrefix('tokens')
  cleanups.push(() => dropKeys(prefix))
  return prefix
}

describe('redisTokenStore', () => {
  test('saves, loads and clears checkpoints per source; another node sees them', async () => {
    const prefix = freshPrefix()
    const [a, b] = [await open(prefix), await open(prefix)]
    expect(await a.load('posts')).toBeNull()
    const checkpoint = { token: { _data: '8265AB' }, changeAt: 1_700_000_000_123, topics: ['feed', 'user:1'] }
    await a.save('posts', checkpoint)
    await a.save('other', { token: { _data: '01' } })
    expect(await b.load('posts')).toEqual(checkpoint)
    expect(await b.load('other')).toEqual({ token: { _data: '01' }, changeAt: undefined, topics: undefined })
    // Saved without topics: the topics saved before stay; the rest is replaced.
    await b.save('posts', { token: { _data: '8265AC' } })
    expect(await a.load('posts')).toEqual({
      token: { _data: '8265AC' },
      changeAt: undefined,
      topics: ['feed', 'user:1'],
    })
    await b.save('posts', { token: { _data: '8265AD' }, topics: [] })
    expect((await a.load('posts'))?.topics).toEqual([])
    await b.clear('posts')
    expect(await a.load('posts')).toBeNull()
    expect(await a.load('other')).not.toBeNull()
  })

  test('a lease has one holder until it is released or expires', async () => {
    const prefix = freshPrefix()
    const [a, b] = [await open(prefix), await open(prefix)]
    const lease = a.lease
    const other = b.lease
    if (lease === undefined || other === undefined) throw new Error('no lease')
    expect(await lease.acquire('src', 'node-a', 10_000)).toBe(true)
    expect(await other.acquire('src', 'node-b', 10_000)).toBe(false)
    expect(await other.renew('src', 'node-b', 10_000)).toBe(false)
    // The holder renews (and acquiring again is a renewal).
    expect(await lease.renew('src', 'node-a', 10_000)).toBe(true)
    expect(await lease.acquire('src', 'node-a', 10_000)).toBe(true)
    // Releasing someone else's lease does nothing.
    await other.release('src', 'node-b')
    expect(await other.acquire('src', 'node-b', 10_000)).toBe(false)
    await lease.release('src', 'node-a')
    expect(await other.acquire('src', 'node-b', 150)).toBe(true)
    expect(await lease.renew('src', 'node-a', 10_000)).toBe(false)
    // It expires on the Redis clock, and then anyone may take it.
    await expect.poll(() => lease.acquire('src', 'node-a', 10_000), { timeout: 3_000, interval: 50 }).toBe(true)
    expect(await other.renew('src', 'node-b', 10_000)).toBe(false)
    const client = await redisClient()
    const ttl = (await client.sendCommand(['PTTL', `${prefix}:lease:src`])) as number
    client.destroy()
    expect(ttl).toBeGreaterThan(5_000)
  })
})
