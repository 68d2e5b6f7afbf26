/**
 * A node dies under a streaming client, which resumes on another node with its
 * Last-Event-ID (issue 6, done when 2): with redisLog it gets every event exactly once;
 * with redisBus too while the other node still holds its id in memory, and an explicit
 * `rt.reset` once it does not.
 */
import { afterEach, expect, test } from 'vitest'
import { dropKeys, REDIS_URL } from '../packages/server/test/redis-support.js'
import { type HubNode, type NodeConfig, startNode, testName } from './fixtures/redis-harness.js'
import { appEvents, openSse, type SseStream } from './support/sse.js'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function pair(mode: 'bus' | 'log', b: Partial<NodeConfig> = {}): Promise<[HubNode, HubNode]> {
  const name = testName(mode)
  cleanups.push(() => dropKeys(name))
  const nodes = await Promise.all([
    startNode({ redisUrl: REDIS_URL, mode, name }),
    startNode({ redisUrl: REDIS_URL, mode, name, ...b }),
  ])
  for (const node of nodes) cleanups.push(() => node.stop())
  return nodes
}

/** Opens the first of `urls` that answers, as a client given several nodes does. */
async function connectAny(urls: readonly string[], lastEventId?: string): Promise<SseStream> {
  for (const url of urls) {
    try {
      const stream = await openSse(`${url}?topics=feed`, lastEventId === undefined ? {} : { lastEventId })
      cleanups.push(() => stream.close())
      return stream
    } catch {
      // Refused: try the next node.
    }
  }
  throw new Error('no node answered')
}

/**
 * Publishes on `node` until stopped; `stop()` resolves with the ids that were accepted, in
 * order, or rejects with the error that ended the loop (never an unhandled rejection).
 */
function publisher(node: HubNode) {
  let running = true
  let n = 0
  const ids: string[] = []
  const done = (async () => {
    try {
      while (running) {
        const published = await node.publish({ type: 'post', topic: 'feed', data: { n: n++ } })
        if (published.status === 200) ids.push(published.id as string)
      }
    } finally {
      running = false
    }
    return ids
  })()
  done.catch(() => {}) // reported by stop()
  cleanups.push(() => {
    running = false
  })
  return {
    ids,
    stop: () => {
      running = false
      return done
    },
  }
}

test.each([
  ['log', {}],
  ['bus', {}],
] as const)(
  'redis %s: SIGKILL the node a client streams from; it resumes on the other node exactly once',
  async (mode, b) => {
    const [nodeA, nodeB] = await pair(mode, b)
    const urls = [nodeA.url, nodeB.url]
    const first = await connectAny(urls)
    await first.until((e) => e.some((x) => x.event === 'rt.connected'))
    const pub = publisher(nodeB)
    await first.until((e) => appEvents(e).length >= 20)
    await nodeA.kill()
    await first.ended
    const lastSeen = first.lastEventId as string
    // Events keep being published while the client is away.
    // Throughput depends on the machine's load: bounded well inside the test's timeout.
    const progress = { timeout: 10_000, interval: 20 }
    await expect.poll(() => pub.ids.length, progress).toBeGreaterThanOrEqual(appEvents(first.events).length + 20)
    const second = await connectAny(urls, lastSeen)
    await second.until((e) => e.some((x) => x.event === 'rt.connected'))
    await expect.poll(() => pub.ids.length, progress).toBeGreaterThanOrEqual(appEvents(first.events).length + 60)
    const published = await pub.stop()
    await second.until((e) => appEvents(e).at(-1)?.id === published.at(-1))
    expect(second.events.some((e) => e.event === 'rt.reset')).toBe(false)
    const got = [...appEvents(first.events), ...appEvents(second.events)].map((e) => e.id)
    expect(got).toEqual(published)
  },
  60_000,
)

test('redis bus: a client away for longer than the other node holds gets rt.reset, then the live stream', async () => {
  const [nodeA, nodeB] = await pair('bus', { capacity: 5 })
  const urls = [nodeA.url, nodeB.url]
  const first = await connectAny(urls)
  await first.until((e) => e.some((x) => x.event === 'rt.connected'))
  for (let n = 0; n < 3; n++) await nodeB.publish({ type: 'post', topic: 'feed', data: { n } })
  await first.until((e) => appEvents(e).length === 3)
  await nodeA.kill()
  await first.ended
  // More than node B's 5 while the client is away: what it missed is gone from every node.
  for (let n = 3; n < 13; n++) await nodeB.publish({ type: 'post', topic: 'feed', data: { n } })
  const second = await connectAny(urls, first.lastEventId)
  await second.until((e) => e.some((x) => x.event === 'rt.reset'))
  const reset = second.events.find((e) => e.event === 'rt.reset')
  expect(JSON.parse(reset?.data ?? '{}')).toEqual({ reason: 'evicted' })
  expect(appEvents(second.events)).toEqual([])
  // The reset carries the head: live events follow it, none is replayed.
  const live = await nodeB.publish({ type: 'post', topic: 'feed', data: { n: 13 } })
  await second.until((e) => appEvents(e).length === 1)
  expect(appEvents(second.events).map((e) => e.id)).toEqual([live.id])
  expect(reset?.id).toBe(`${live.id?.slice(0, live.id.lastIndexOf('-'))}-${Number(live.id?.split('-').at(-1)) - 1}`)
})
