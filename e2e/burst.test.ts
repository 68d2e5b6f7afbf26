import { createHub } from '@rt/server'
import { afterEach, describe, expect, test } from 'vitest'
import { ADAPTERS, type Running, serveHub } from './support/servers.js'
import { appEvents, openSse } from './support/sse.js'

const running: Running[] = []
afterEach(async () => {
  for (const r of running.splice(0)) await r.close()
})

// Sized to the cap, not to the machine: 1,000 events of ~1 KiB are four times a 256 KiB
// maxBufferedBytes, and still above the hub's early-write threshold (64 KiB) many times over.
const COUNT = 1_000
const MAX_BUFFERED = 262_144
const pad = 'x'.repeat(1_000)
/** Each wait stays well inside the test's timeout, so a slow run fails with a reason. */
const WAIT_MS = 20_000
const indexes = (events: ReturnType<typeof appEvents>) => events.map((e) => (e.data as { i: number }).i)

// 1,000 events of ~1 KiB published with `await` in a loop never yield to the event loop:
// about 1 MiB, four times maxBufferedBytes, reach each connection within one tick.
describe.each(ADAPTERS)('a burst through the %s adapter', (kind) => {
  test('published without yielding, it is delivered whole or resumed exactly', async () => {
    const hub = createHub({ maxBufferedBytes: MAX_BUFFERED })
    const server = await serveHub(hub, kind)
    running.push(server)
    const client = await openSse(`${server.url}?topics=a`)
    await client.until((e) => e.some((x) => x.event === 'rt.connected'))
    for (let i = 0; i < COUNT; i++) await hub.publish({ type: 'm', topic: 'a', data: { i, pad } })
    const done = client.until((e) => appEvents(e).length === COUNT, WAIT_MS)
    if (kind !== 'fetch') {
      // (A socket sink writes early; see EARLY_WRITE_BYTES in the hub.)
      // A socket and the kernel's buffer absorb the burst: a reading client is never dropped.
      await done
      expect(hub.stats().dropped).toBe(0)
      expect(indexes(appEvents(client.events))).toEqual([...Array(COUNT).keys()])
    } else {
      // A Web stream's queue is its only buffer, so the cap drops the stream; what arrived
      // is a prefix and resuming from it returns exactly the rest.
      await Promise.race([done.catch(() => {}), client.ended])
      const first = appEvents(client.events)
      expect(indexes(first)).toEqual([...Array(first.length).keys()])
      if (first.length < COUNT) {
        expect(hub.stats().dropped).toBe(1)
        const resumed = await openSse(`${server.url}?topics=a`, { lastEventId: client.lastEventId as string })
        await resumed.until((e) => first.length + appEvents(e).length === COUNT, WAIT_MS)
        expect(indexes([...first, ...appEvents(resumed.events)])).toEqual([...Array(COUNT).keys()])
        resumed.close()
      }
    }
    client.close()
    await hub.close()
  }, 60_000)
})
