/**
 * A change stream feeding redisLog while Redis is killed and restarted empty: the changes
 * the source had appended before the failed one are not appended again into the new
 * stream (its keys, which would have deduplicated them, died with Redis), and the one
 * that failed is appended once. Clients of the lost stream are reset; what they refetch
 * already holds the earlier changes, so logging them again would repeat them.
 */
import type { Log } from '@rt/server'
import { redisLog } from '@rt/server/redis'
import type { ChangeStreamDocument } from 'mongodb'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { type Fixture, fixture, running } from '../packages/server/test/mongo-support/fixture.js'
import { eventually, type MongoTarget, mongoTarget } from '../packages/server/test/mongo-support/target.js'
import { type OwnRedis, startRedis } from './fixtures/redis-harness.js'

let target: MongoTarget
let redis: OwnRedis
beforeAll(async () => {
  ;[target, redis] = await Promise.all([mongoTarget(), startRedis()])
})
afterAll(async () => {
  await Promise.all([target?.close(), redis?.stop()])
})

/** The posts in the stream this node tails now (its epoch), as `n.part`; [] while unreadable. */
async function stored(log: Log): Promise<string[]> {
  const head = log.head()
  const epoch = head.slice(0, head.lastIndexOf('.'))
  const page = await log.read(`${epoch}.0-0`, 1_000).catch(() => null)
  if (page === null || !page.ok) return []
  return page.entries.map((e) => {
    const { n, part } = e.data as { n: number; part: number }
    return `${n}.${part}`
  })
}

test('what the source appended before Redis was lost is not appended again into the new stream', async () => {
  const redisBacked = await redisLog({ url: redis.url, stream: 'source-restart' }, { publishTimeoutMs: 300 })
  // Change 3 becomes two events; Redis dies between their appends, after 1, 2 and 3.0.
  let killed = false
  const log: Log = {
    ...redisBacked,
    async append(input) {
      const { n, part } = input.data as { n: number; part: number }
      if (n === 3 && part === 1 && !killed) {
        killed = true
        await redis.kill()
      }
      return redisBacked.append(input)
    },
  }
  const map = (change: ChangeStreamDocument) => {
    if (change.operationType !== 'insert') return null
    const n = change.fullDocument.n as number
    const parts = n === 3 ? [0, 1] : [0]
    return parts.map((part) => ({ type: 'post', topic: 'posts', data: { n, part } }))
  }
  let f: Fixture | undefined
  try {
    // A long checkpoint interval: no token is saved between 1 and the end of 3.
    f = await fixture(target, { log, map, checkpointMs: 60_000 })
    await running(f.source)
    const before = log.head()
    await f.posts.insertMany([{ n: 1 }, { n: 2 }, { n: 3 }])
    // The append of 3.1 fails while Redis is down; the source reopens at its checkpoint.
    await eventually(() => f?.source.status().restarts !== 0, { what: 'the source retrying' })
    expect(killed).toBe(true)
    await redis.start()
    await eventually(async () => log.head() !== before && (await stored(log)).includes('3.1'), {
      what: '3.1 appended into the new stream',
      timeoutMs: 15_000,
    })
    expect(await stored(log)).toEqual(['3.1'])

    await f.posts.insertOne({ n: 4 })
    await eventually(async () => (await stored(log)).includes('4.0'), { what: 'change 4 appended' })
    expect(await stored(log)).toEqual(['3.1', '4.0'])
  } finally {
    await f?.close()
    await redisBacked.close?.()
  }
}, 60_000)
