/**
 * The test's own redis-server is SIGKILLed mid-stream and started again, empty (issue 6,
 * done when 3): nodes keep serving, publishes wait within their bound and then fail,
 * `hub.stats()` and the health probe show degraded; once Redis is back delivery recovers
 * and every client has either every event or an `rt.reset` where it lost some.
 */
import { afterEach, expect, test } from 'vitest'
import { checkEverythingOrReset, sequentialPublisher } from './fixtures/redis-check.js'
import {
  appEventsOf,
  type HubNode,
  type OwnRedis,
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

const MAX_PENDING = 20
const PUBLISH_TIMEOUT_MS = 800

async function cluster(mode: 'bus' | 'log'): Promise<{ redis: OwnRedis; nodes: HubNode[] }> {
  const redis = await startRedis()
  cleanups.push(() => redis.stop())
  const config = {
    redisUrl: redis.url,
    mode,
    name: testName(mode),
    maxPending: MAX_PENDING,
    publishTimeoutMs: PUBLISH_TIMEOUT_MS,
  }
  const nodes = await Promise.all([startNode(config), startNode(config)])
  for (const node of nodes) cleanups.push(() => node.stop())
  return { redis, nodes }
}

async function clients(node: HubNode, count: number, topics = 'feed'): Promise<RawStream[]> {
  const streams = await Promise.all(Array.from({ length: count }, () => openRaw(`${node.url}?topics=${topics}`)))
  for (const s of streams) cleanups.push(() => s.close())
  await Promise.all(streams.map((s) => s.until((e) => e.some((x) => x.event === 'rt.connected'))))
  return streams
}

test.each(['bus', 'log'] as const)(
  'redis %s: redis-server killed and restarted empty mid-stream',
  async (mode) => {
    const { redis, nodes } = await cluster(mode)
    const [a, b] = nodes as [HubNode, HubNode]
    const streams = [...(await clients(a, 10)), ...(await clients(b, 10))]
    const [away] = await clients(b, 1)
    const [side] = await clients(b, 1, 'side')
    const pub = sequentialPublisher(nodes)
    await Promise.all(streams.map((s) => s.until((e) => appEventsOf(e).length >= 10)))

    await redis.kill()
    for (const node of nodes) {
      await expect.poll(async () => (await node.health()).status).toBe(503)
      expect((await node.health()).body).toMatchObject({ status: 'degraded', log: { state: 'degraded' } })
    }
    // Streams stay open through the outage; one client leaves and comes back later.
    away?.close()
    // Publishes beyond the bound fail at once; the rest wait, then fail: never unbounded.
    const started = Date.now()
    const burst = Promise.all(
      Array.from({ length: MAX_PENDING * 2 }, (_, n) => a.publish({ type: 'post', topic: 'side', data: { n } })),
    )
    await expect.poll(async () => ((await a.stats()).log as { pending: number }).pending).toBe(MAX_PENDING)
    const answers = await burst
    expect(Date.now() - started).toBeLessThan(PUBLISH_TIMEOUT_MS + 3_000)
    expect(answers.every((p) => p.status === 503 && p.code === 'unavailable')).toBe(true)
    expect(((await a.stats()).log as { pending: number }).pending).toBeLessThanOrEqual(1)

    await redis.start()
    for (const node of nodes) await expect.poll(async () => (await node.health()).status, { timeout: 10_000 }).toBe(200)
    const resumeFrom = away?.lastEventId as string
    const back = await openRaw(`${b.url}?topics=feed`, { lastEventId: resumeFrom })
    cleanups.push(() => back.close())
    const before = pub.accepted.length
    await expect.poll(() => pub.accepted.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(before + 10)
    await pub.stop()
    const lastAccepted = pub.accepted.at(-1) as number
    const got = (s: RawStream) => appEventsOf(s.events).some((e) => (e.data as { n: number }).n === lastAccepted)
    await Promise.all([...streams, back].map((s) => s.until(() => got(s))))

    for (const s of streams) {
      const { resets } = checkEverythingOrReset(s.events, pub.accepted, pub.failed)
      // Redis lost everything, ids included: every client is told so.
      expect(resets.length).toBeGreaterThanOrEqual(1)
      expect(JSON.parse(resets[0]?.data ?? '{}')).toMatchObject({ reason: expect.stringMatching(/unknown|evicted/) })
    }
    // The client that was away resumes with an id from before the outage: explicitly reset.
    expect(back.events.find((e) => e.event === 'rt.reset')?.data).toBe(JSON.stringify({ reason: 'unknown' }))
    // Its reset comes first, so whatever it missed before its first event is covered.
    checkEverythingOrReset(back.events, pub.accepted, pub.failed)
    // Nothing from the failed burst ever shows up.
    expect(appEventsOf(side?.events ?? [])).toEqual([])
    for (const node of nodes) {
      const stats = await node.stats()
      expect(stats.log).toMatchObject({ state: 'ok', pending: 0 })
      expect(stats.connections).toBeGreaterThan(0)
    }
  },
  40_000,
)
