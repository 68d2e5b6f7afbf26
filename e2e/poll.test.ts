import { createHub, memoryLog } from '@rt/server'
import { afterEach, describe, expect, test } from 'vitest'
import { ADAPTERS, type Running, serveHub } from './support/servers.js'
import { appEvents, openSse } from './support/sse.js'

interface Answer {
  events: { id: string; type: string; topic: string; ts: number; data: unknown }[]
  lastEventId: string
  reset: boolean
  reason?: string
  heartbeatMs: number
  retryMs: number
}

const running: Running[] = []
afterEach(async () => {
  for (const r of running.splice(0)) await r.close()
})

async function poll(url: string, query: string, lastEventId?: string, init: RequestInit = {}): Promise<Answer> {
  const headers: Record<string, string> = lastEventId === undefined ? {} : { 'last-event-id': lastEventId }
  const res = await fetch(`${url}?transport=poll&${query}`, { headers, ...init })
  expect(res.status).toBe(200)
  return (await res.json()) as Answer
}

describe.each(ADAPTERS)('long-poll through the %s adapter', (kind) => {
  test('reads only its topics: one answer past other topics, and its position moves past them', async () => {
    const hub = createHub({ log: memoryLog({ capacity: 5_000 }) })
    const server = await serveHub(hub, kind)
    running.push(server)
    const start = await poll(server.url, 'topics=a')
    for (let i = 0; i < 1_200; i++) await hub.publish({ type: 'm', topic: 'b', data: i })
    const mine = await hub.publish({ type: 'm', topic: 'a', data: 'mine' })
    let last = ''
    for (let i = 0; i < 700; i++) last = await hub.publish({ type: 'm', topic: 'b', data: i })
    // 1,900 entries after the position, more than one page of 500: one answer all the same.
    const answer = await poll(server.url, 'topics=a', start.lastEventId)
    expect(answer.events.map((e) => e.id)).toEqual([mine])
    expect(answer.lastEventId).toBe(last)
  })

  test('without a position answers at once with the head; with one, replays then waits', async () => {
    const hub = createHub({ heartbeatMs: 5_000 })
    const server = await serveHub(hub, kind)
    running.push(server)
    await hub.publish({ type: 'm', topic: 'a', data: 0 })
    const first = await poll(server.url, 'topics=a')
    expect(first).toMatchObject({ events: [], reset: false, heartbeatMs: 5_000 })

    const ids = [
      await hub.publish({ type: 'm', topic: 'a', data: 1 }),
      await hub.publish({ type: 'm', topic: 'b', data: 'not mine' }),
      await hub.publish({ type: 'm', topic: 'a', data: 2 }),
    ]
    const second = await poll(server.url, 'topics=a', first.lastEventId)
    expect(second.events.map((e) => [e.id, e.data])).toEqual([
      [ids[0], 1],
      [ids[2], 2],
    ])
    expect(second.lastEventId).toBe(ids[2])
    // Long-poll deliveries count in stats like streamed ones.
    expect(hub.stats().delivered).toBe(2)

    // Nothing new: the request waits until an event arrives, then answers with it.
    const waiting = poll(server.url, 'topics=a&timeout=10000', second.lastEventId)
    await expect.poll(() => hub.stats().connections).toBe(1)
    const id = await hub.publish({ type: 'm', topic: 'a', data: 3 })
    const third = await waiting
    expect(third.events.map((e) => e.data)).toEqual([3])
    expect(third.lastEventId).toBe(id)
    expect(hub.stats().connections).toBe(0)

    // Timeout with nothing new keeps the position.
    const idle = await poll(server.url, 'topics=a&timeout=50', third.lastEventId)
    expect(idle).toMatchObject({ events: [], lastEventId: third.lastEventId, reset: false })
    await hub.close()
  })

  test('an unknown position answers reset with the head', async () => {
    const hub = createHub({ log: memoryLog({ capacity: 2 }) })
    const server = await serveHub(hub, kind)
    running.push(server)
    const start = await poll(server.url, 'topics=a')
    for (let i = 0; i < 5; i++) await hub.publish({ type: 'm', topic: 'a', data: i })
    const evicted = await poll(server.url, 'topics=a', start.lastEventId)
    expect(evicted).toMatchObject({ events: [], reset: true, reason: 'evicted' })
    const malformed = await poll(server.url, 'topics=a', 'nonsense')
    expect(malformed).toMatchObject({ reset: true, reason: 'malformed' })
    const after = await poll(server.url, 'topics=a&timeout=0', evicted.lastEventId)
    expect(after).toMatchObject({ events: [], reset: false })
    await hub.close()
  })

  test('SSE and poll share ids: switching mid-stream loses and repeats nothing', async () => {
    const hub = createHub()
    const server = await serveHub(hub, kind)
    running.push(server)
    const sse = await openSse(`${server.url}?topics=a`)
    await sse.until((e) => e.some((x) => x.event === 'rt.connected'))
    for (let i = 0; i < 5; i++) await hub.publish({ type: 'm', topic: 'a', data: i })
    await sse.until((e) => appEvents(e).length === 5)
    sse.close()
    for (let i = 5; i < 10; i++) await hub.publish({ type: 'm', topic: 'a', data: i })
    const polled = await poll(server.url, 'topics=a', sse.lastEventId)
    for (let i = 10; i < 12; i++) await hub.publish({ type: 'm', topic: 'a', data: i })
    const back = await openSse(`${server.url}?topics=a`, { lastEventId: polled.lastEventId })
    await back.until((e) => appEvents(e).length === 2)
    back.close()
    const seen = [...appEvents(sse.events), ...polled.events, ...appEvents(back.events)].map((e) => e.data)
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    await hub.close()
  })

  test('a client that goes away ends its waiting request', async () => {
    const hub = createHub()
    const server = await serveHub(hub, kind)
    running.push(server)
    const start = await poll(server.url, 'topics=a')
    const controller = new AbortController()
    const waiting = poll(server.url, 'topics=a&timeout=20000', start.lastEventId, { signal: controller.signal })
    await expect.poll(() => hub.stats().connections).toBe(1)
    controller.abort()
    await expect(waiting).rejects.toThrow()
    await expect.poll(() => hub.stats().connections).toBe(0)
    await hub.close()
  })
})

test('poll timeouts are clamped to pollTimeoutMs and bad values are refused', async () => {
  const hub = createHub({ pollTimeoutMs: 30 })
  const server = await serveHub(hub, 'node')
  running.push(server)
  const start = await poll(server.url, 'topics=a')
  const clamped = await poll(server.url, 'topics=a&timeout=999999', start.lastEventId)
  expect(clamped.events).toEqual([])
  const bad = await fetch(`${server.url}?transport=poll&topics=a&timeout=-1`)
  expect(bad.status).toBe(400)
  await hub.close()
})
