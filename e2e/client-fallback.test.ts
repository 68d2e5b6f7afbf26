/**
 * Long-poll fallback through a real buffering proxy on loopback, and transport switches
 * in the middle of a stream, against a real hub: nothing lost, nothing repeated.
 */
import { type Client, createClient, type Transport } from '@rt/client'
import { createHub, type Hub } from '@rt/server'
import { afterEach, expect, test, vi } from 'vitest'
import { startProxy, type TestProxy } from './support/proxies.js'
import { serveHub } from './support/servers.js'

type Events = { n: number }

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i)

async function setup(): Promise<{ hub: Hub<Events>; proxy: TestProxy }> {
  const hub = createHub<Events>({ retryMs: 10, heartbeatMs: 200 })
  const running = await serveHub(hub, 'node')
  const proxy = await startProxy(running.origin)
  cleanup.push(
    () => running.close(),
    () => hub.close(),
    () => proxy.close(),
  )
  return { hub, proxy }
}

function track(client: Client<Events>) {
  const got: number[] = []
  /** The transport each event arrived on. */
  const via: Transport[] = []
  client.on('n', (n) => {
    got.push(n)
    via.push(client.transport)
  })
  cleanup.push(() => client.close())
  return { got, via }
}

/** Publishes `count` events from `from`, one every `everyMs`, until done. */
async function publishSlowly(hub: Hub<Events>, from: number, count: number, everyMs = 5) {
  for (let n = from; n < from + count; n++) {
    await hub.publish({ type: 'n', topic: 't', data: n })
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

test("a buffering proxy: 'auto' switches to long-poll and receives every event once, in order", async () => {
  const { hub, proxy } = await setup()
  proxy.buffering = true
  // A position to start from (say, the id the page's data was rendered at), so that events
  // published while the first stream hangs in the proxy belong to this client.
  const seed = await hub.publish({ type: 'n', topic: 't', data: -1 })
  const client = createClient<Events>({
    url: `${proxy.origin}/events`,
    topics: ['t'],
    lastEventId: seed,
    connectTimeoutMs: 500,
    sseRetryMs: 1_500,
    pollTimeoutMs: 1_000,
  })
  const { got, via } = track(client)
  // Published while the client still waits on a stream that will never arrive.
  for (const n of range(20)) await hub.publish({ type: 'n', topic: 't', data: n })
  await vi.waitFor(() => expect(client.transport).toBe('poll'), { timeout: 3_000 })
  await vi.waitFor(() => expect(client.state).toBe('open'))
  // Long enough for the client to try SSE again (after 1.5 s), find it buffered, and come back.
  await publishSlowly(hub, 20, 200, 10)
  await vi.waitFor(() => expect(got).toHaveLength(220), { timeout: 5_000 })
  expect(got).toEqual(range(220))
  expect(new Set(via)).toEqual(new Set(['poll']))
  // The first stream and at least one probe later, each given up after 500 ms of silence.
  const streams = proxy.paths.filter((path) => !path.includes('transport=poll'))
  expect(streams.length).toBeGreaterThanOrEqual(2)
  expect(proxy.paths.length).toBeGreaterThan(streams.length)
  expect(client.transport).toBe('poll')
})

test('switching SSE -> long-poll -> SSE in the middle of a stream loses and repeats nothing', async () => {
  const { hub, proxy } = await setup()
  const client = createClient<Events>({
    url: `${proxy.origin}/events`,
    topics: ['t'],
    connectTimeoutMs: 300,
    sseRetryMs: 800,
    pollTimeoutMs: 1_000,
  })
  const { got, via } = track(client)
  await vi.waitFor(() => expect(client.state).toBe('open'))
  const publishing = publishSlowly(hub, 0, 400, 5)
  await vi.waitFor(() => expect(got.length).toBeGreaterThan(50), { timeout: 5_000 })
  // The network changes: from now on responses are buffered, and the open stream is cut.
  proxy.buffering = true
  proxy.drop()
  await vi.waitFor(() => expect(client.transport).toBe('poll'), { timeout: 3_000 })
  const switchedAt = got.length
  await vi.waitFor(() => expect(got.length).toBeGreaterThan(switchedAt + 50), { timeout: 5_000 })
  // Streams flow again: the next SSE probe sticks.
  proxy.buffering = false
  await vi.waitFor(() => expect(via.at(-1)).toBe('sse'), { timeout: 5_000 })
  await publishing
  await vi.waitFor(() => expect(got).toHaveLength(400), { timeout: 5_000 })
  expect(got).toEqual(range(400))
  // The transports in the order events arrived on them: SSE, then long-poll, then SSE.
  const runs = via.filter((t, i) => t !== via[i - 1])
  expect(runs).toEqual(['sse', 'poll', 'sse'])
})
