/**
 * A gap in a redisBus (events this node never received) as clients see it: a live stream
 * gets `rt.reset` in order, right where the events are missing; a waiting long-poll request
 * answers without them and the next one is reset. Never a silent hole.
 */
import { createHub } from '@rt/server'
import { redisBus } from '@rt/server/redis'
import { createClient } from 'redis'
import { afterEach, expect, test } from 'vitest'
import { dropKeys, REDIS_URL } from '../packages/server/test/redis-support.js'
import { testName } from './fixtures/redis-harness.js'
import { serveHub } from './support/servers.js'
import { openSse } from './support/sse.js'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function setup() {
  const channel = testName('gap')
  cleanups.push(() => dropKeys(channel))
  const hub = createHub({ log: await redisBus({ url: REDIS_URL }, { channel }) })
  cleanups.push(() => hub.close())
  const server = await serveHub(hub, 'node')
  cleanups.push(() => server.close())
  const admin = createClient({ url: REDIS_URL })
  admin.on('error', () => {})
  await admin.connect()
  cleanups.push(() => admin.destroy())
  // Takes ids without publishing: to every node, those events were lost.
  const lose = (count: number) => admin.sendCommand(['HINCRBY', `${channel}:meta`, 'seq', String(count)])
  return { hub, server, lose }
}

const epochAndSeq = (id: string) =>
  [id.slice(0, id.lastIndexOf('-')), Number(id.slice(id.lastIndexOf('-') + 1))] as const

test('a live stream is reset in order, where the events went missing', async () => {
  const { hub, server, lose } = await setup()
  const stream = await openSse(`${server.url}?topics=feed`)
  cleanups.push(() => stream.close())
  const before = await hub.publish({ type: 'post', topic: 'feed', data: 1 })
  await stream.until((e) => e.some((x) => x.id === before))
  await lose(3)
  const after = await hub.publish({ type: 'post', topic: 'feed', data: 2 })
  await stream.until((e) => e.some((x) => x.id === after))
  const [epoch, seq] = epochAndSeq(before)
  expect(stream.events.map((e) => [e.event, e.id, e.data])).toEqual([
    ['rt.connected', `${epoch}-${seq - 1}`, JSON.stringify({ heartbeatMs: 15_000 })],
    ['post', before, expect.any(String)],
    ['rt.reset', `${epoch}-${seq + 3}`, JSON.stringify({ reason: 'evicted' })],
    ['post', after, expect.any(String)],
  ])
  expect(hub.stats().log).toMatchObject({ state: 'ok', gaps: 1 })
  // Resuming from before the gap is a reset too; from the reset's id, exact.
  const again = await openSse(`${server.url}?topics=feed`, { lastEventId: before })
  cleanups.push(() => again.close())
  await again.until((e) => e.some((x) => x.event === 'rt.reset'))
  const fromReset = await openSse(`${server.url}?topics=feed`, { lastEventId: `${epoch}-${seq + 3}` })
  cleanups.push(() => fromReset.close())
  await fromReset.until((e) => e.some((x) => x.id === after))
  expect(fromReset.events.map((e) => e.event)).toEqual(['rt.connected', 'post'])
})

test('a waiting long-poll answers without the lost events; the next poll is reset', async () => {
  const { hub, server, lose } = await setup()
  const head = await hub.publish({ type: 'post', topic: 'feed', data: 1 })
  const poll = (lastEventId: string) =>
    fetch(`${server.url}?topics=feed&transport=poll&lastEventId=${encodeURIComponent(lastEventId)}`).then(
      (res) =>
        res.json() as Promise<{ events: { id: string }[]; lastEventId: string; reset: boolean; reason?: string }>,
    )
  const waiting = poll(head)
  await expect.poll(() => hub.stats().connections).toBe(1)
  await lose(2)
  const after = await hub.publish({ type: 'post', topic: 'feed', data: 2 })
  const answer = await waiting
  expect(answer.events.map((e) => e.id)).not.toContain(after)
  expect(answer).toMatchObject({ reset: false, lastEventId: head })
  const next = await poll(answer.lastEventId)
  expect(next).toMatchObject({ reset: true, reason: 'evicted', events: [] })
  const [epoch, seq] = epochAndSeq(after)
  expect(next.lastEventId).toBe(`${epoch}-${seq}`)
})
