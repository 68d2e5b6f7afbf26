/**
 * A gap in a redisBus that arrives while a stream is replaying: the replay read its page
 * before the gap and hands it over after, so only the hub's gap handling can tell that the
 * stream's position now lies before lost events. The stream must be reset, never continue
 * live past a silent hole.
 */
import { createHub, type Log } from '@rt/server'
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

/** The log, with the results of reads held back until `release` (the reads themselves run at once). */
function heldResults(log: Log) {
  let release = () => {}
  const held = new Promise<void>((resolve) => {
    release = resolve
  })
  let reading = () => {}
  const readStarted = new Promise<void>((resolve) => {
    reading = resolve
  })
  const wrapped: Log = {
    append: (input) => log.append(input),
    head: () => log.head(),
    subscribe: (listener, onGap) => log.subscribe(listener, onGap),
    status: () => log.status?.() ?? { state: 'ok' },
    close: () => log.close?.() ?? Promise.resolve(),
    async read(afterId, limit) {
      const page = await log.read(afterId, limit)
      reading()
      await held
      return page
    },
  }
  return { log: wrapped, readStarted, release }
}

test('a gap told to the hub while a stream replays resets that stream', async () => {
  const channel = testName('gap-replay')
  cleanups.push(() => dropKeys(channel))
  const bus = heldResults(await redisBus({ url: REDIS_URL }, { channel }))
  const hub = createHub({ log: bus.log })
  cleanups.push(() => hub.close())
  const server = await serveHub(hub, 'node')
  cleanups.push(() => server.close())
  const admin = createClient({ url: REDIS_URL })
  admin.on('error', () => {})
  await admin.connect()
  cleanups.push(() => admin.destroy())

  const origin = bus.log.head()
  const first = await hub.publish({ type: 'post', topic: 'feed', data: 1 })
  const stream = await openSse(`${server.url}?topics=feed`, { lastEventId: origin })
  cleanups.push(() => stream.close())
  // The replay has read its page (holding `first`); its result waits.
  await bus.readStarted
  // Ids taken without publishing: every node lost those events. The next publish reveals the gap.
  await admin.sendCommand(['HINCRBY', `${channel}:meta`, 'seq', '3'])
  const after = await hub.publish({ type: 'post', topic: 'feed', data: 2 })
  await expect.poll(() => (hub.stats().log as { gaps?: number }).gaps).toBe(1)
  bus.release()

  await stream.until((events) => events.some((e) => e.event === 'rt.reset'), 5_000)
  const seen = stream.events.map((e) => e.event)
  expect(seen.slice(0, 3)).toEqual(['rt.connected', 'post', 'rt.reset'])
  expect(JSON.parse(stream.events[2]?.data ?? '{}')).toEqual({ reason: 'evicted' })
  // After the reset it is live again: what comes next arrives.
  const next = await hub.publish({ type: 'post', topic: 'feed', data: 3 })
  await stream.until((events) => events.some((e) => e.id === next))
  // The reset names the head when it was sent, which covers `after`: it is not sent again.
  expect(stream.events[2]?.id).toBe(after)
  expect(stream.events.filter((e) => !e.event.startsWith('rt.')).map((e) => e.id)).toEqual([first, next])
})
