/**
 * A resume whose position this node's tail has not reached yet (the client got the id from
 * a node further ahead, or from a publish that returned before the tail read it back): the
 * log's read waits for the tail, which tells the hub every entry up to the position while
 * the stream's live entries are being collected. Those entries are at or before the
 * position, so none of them may reach the client: only what comes after it, once, in order.
 * Over SSE and long-poll, on redisLog with its tail held by the test.
 */
import { createHub, type Hub } from '@rt/server'
import { type RedisLike, redisLog } from '@rt/server/redis'
import { afterEach, expect, test } from 'vitest'
import { dropKeys, interceptCommands, redisClient } from '../packages/server/test/redis-support.js'
import { testName } from './fixtures/redis-harness.js'
import { serveHub } from './support/servers.js'
import { openSse } from './support/sse.js'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/**
 * A node-redis client whose duplicates (redisLog's tail connection) send `XREAD` only
 * while the tail is let go: `hold()` stops the tail before its next read.
 */
async function heldTail() {
  const base = await redisClient()
  let open: Promise<void> = Promise.resolve()
  let letGo = () => {}
  const client = interceptCommands(base as unknown as RedisLike, (args) => (args[0] === 'XREAD' ? open : undefined))
  return {
    client,
    hold() {
      open = new Promise<void>((resolve) => {
        letGo = resolve
      })
    },
    release: () => letGo(),
    close: () => base.destroy(),
  }
}

async function setup(): Promise<{ hub: Hub; url: string; tail: Awaited<ReturnType<typeof heldTail>> }> {
  const stream = testName('behind-tail')
  cleanups.push(() => dropKeys(stream))
  const tail = await heldTail()
  cleanups.push(() => tail.close())
  const log = await redisLog({ client: tail.client, stream }, { catchUpMs: 10_000 })
  const hub = createHub({ log })
  cleanups.push(() => hub.close())
  const server = await serveHub(hub, 'node')
  cleanups.push(() => server.close())
  return { hub, url: `${server.url}?topics=feed`, tail }
}

/** Publishes `count` posts while the tail is held; the tail reads one more time first, so it waits on an empty stream. */
async function publishBehindTail(hub: Hub, tail: Awaited<ReturnType<typeof heldTail>>, count: number) {
  tail.hold()
  const ids: string[] = []
  for (let n = 1; n <= count; n++) ids.push(await hub.publish({ type: 'post', topic: 'feed', data: n }))
  return ids
}

test('SSE: a resume that waits for the tail gets only what follows its position', async () => {
  const { hub, url, tail } = await setup()
  const ids = await publishBehindTail(hub, tail, 5)
  // Resume after 3, which this node's tail has not read yet.
  const stream = await openSse(url, { lastEventId: ids[2] })
  cleanups.push(() => stream.close())
  await expect.poll(() => hub.stats().connections).toBe(1)
  tail.release()
  const next = await hub.publish({ type: 'post', topic: 'feed', data: 6 })
  await stream.until((events) => events.some((e) => e.id === next))
  const posts = stream.events
    .filter((e) => e.event === 'post')
    .map((e) => (JSON.parse(e.data) as { data: number }).data)
  expect(posts).toEqual([4, 5, 6])
})

test('long-poll: a resume that waits for the tail gets only what follows its position', async () => {
  const { hub, url, tail } = await setup()
  const ids = await publishBehindTail(hub, tail, 5)
  // Resume after the newest: nothing is owed until 6, so the poll must wait for it.
  const answer = fetch(`${url}&transport=poll&lastEventId=${encodeURIComponent(ids[4] as string)}`)
  await expect.poll(() => hub.stats().connections).toBe(1)
  tail.release()
  // The tail has read up to the position, and no further, before 6 is published.
  await expect.poll(() => hub.head()).toBe(ids[4])
  const next = await hub.publish({ type: 'post', topic: 'feed', data: 6 })
  const res = await answer
  expect(res.status).toBe(200)
  const body = (await res.json()) as { events: { id: string; data: number }[]; lastEventId: string }
  expect(body.events.map((e) => e.data)).toEqual([6])
  expect(body.lastEventId).toBe(next)
})
