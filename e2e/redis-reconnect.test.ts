/**
 * Every connection to Redis is cut mid-stream while events keep being published, and Redis
 * keeps its data: with redisLog every client still gets every event exactly once, in order;
 * with redisBus every client gets every event or an `rt.reset` where pub/sub lost some.
 */
import { createClient } from 'redis'
import { afterEach, expect, test } from 'vitest'
import { checkEverythingOrReset, sequentialPublisher } from './fixtures/redis-check.js'
import {
  appEventsOf,
  type HubNode,
  openRaw,
  type RawStream,
  startNode,
  startRedis,
  testName,
} from './fixtures/redis-harness.js'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

test.each(['log', 'bus'] as const)(
  'redis %s: all Redis connections cut while publishing',
  async (mode) => {
    const redis = await startRedis()
    cleanups.push(() => redis.stop())
    const config = { redisUrl: redis.url, mode, name: testName(mode) }
    const nodes = await Promise.all([startNode(config), startNode(config)])
    for (const node of nodes) cleanups.push(() => node.stop())
    const streams: RawStream[] = []
    for (const node of nodes) {
      for (let i = 0; i < 10; i++) {
        const s = await openRaw(`${node.url}?topics=feed`)
        cleanups.push(() => s.close())
        streams.push(s)
      }
    }
    await Promise.all(streams.map((s) => s.until((e) => e.some((x) => x.event === 'rt.connected'))))
    const admin = createClient({ url: redis.url })
    admin.on('error', () => {})
    await admin.connect()
    cleanups.push(() => admin.destroy())

    const pub = sequentialPublisher(nodes as HubNode[])
    cleanups.push(() => pub.stop())
    // Throughput depends on the machine's load: each wait is bounded well inside the test's timeout.
    const progress = { timeout: 10_000, interval: 20 }
    for (let round = 0; round < 3; round++) {
      const seen = pub.accepted.length
      await expect.poll(() => pub.accepted.length, progress).toBeGreaterThanOrEqual(seen + 15)
      // Not this admin connection (SKIPME yes): every node's command, tail and pub/sub ones.
      expect((await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal'])) as number).toBeGreaterThan(0)
      await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub'])
    }
    const seen = pub.accepted.length
    await expect.poll(() => pub.accepted.length, progress).toBeGreaterThanOrEqual(seen + 15)
    await pub.stop()
    const last = pub.accepted.at(-1) as number
    await Promise.all(
      streams.map((s) => s.until(() => appEventsOf(s.events).some((e) => (e.data as { n: number }).n === last))),
    )
    let resets = 0
    for (const s of streams) {
      const checked = checkEverythingOrReset(s.events, pub.accepted, pub.failed)
      resets += checked.resets.length
      if (mode === 'log') {
        // A durable log loses nothing: no reset, and every accepted event arrived.
        expect(checked.resets).toEqual([])
        expect(checked.received.filter((n) => !pub.failed.has(n))).toEqual(pub.accepted)
      }
    }
    if (mode === 'bus') {
      const gaps = await Promise.all(nodes.map(async (n) => ((await n.stats()).log as { gaps: number }).gaps))
      // A client is reset exactly when its node saw a gap in the ids.
      expect(resets > 0).toBe(gaps.some((g) => g > 0))
    }
  },
  90_000,
)
