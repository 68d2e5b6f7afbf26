/**
 * @rt/client against a real hub over real HTTP: exact resume through forced socket
 * destructions on both transports, and a stalled stream detected by the watchdog.
 */
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Client, createClient } from '@rt/client'
import { createHub } from '@rt/server'
import { afterEach, describe, expect, test, vi } from 'vitest'
import { startProxy, trackSockets } from './support/proxies.js'
import { ADAPTERS, serveHub } from './support/servers.js'

type Events = { n: number }

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})

/** A small seeded generator, so a failing run can be replayed from the seed in its message. */
function prng(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i)
const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

function track(client: Client<Events>) {
  const got: number[] = []
  const states: string[] = []
  client.on('n', (n) => got.push(n))
  client.onState((state) => states.push(state))
  cleanup.push(() => client.close())
  return { got, states }
}

const CASES = ADAPTERS.flatMap((adapter) => (['sse', 'poll'] as const).map((transport) => ({ adapter, transport })))

describe.each(CASES)('$adapter adapter, over $transport', ({ adapter, transport }) => {
  test('20 forced server-side socket destructions during 2,000 events: each event once, in order', async () => {
    const seed = Math.floor(Math.random() * 2 ** 32)
    const random = prng(seed)
    const hub = createHub<Events>({ retryMs: 5, heartbeatMs: 1_000 })
    const running = await serveHub(hub, adapter)
    cleanup.push(
      () => running.close(),
      () => hub.close(),
    )
    const sockets = trackSockets(running.server)
    // Requests the server has not finished answering: a long-poll client between two polls
    // (waiting out the floor between answers that came at once) has none.
    let inFlight = 0
    running.server.on('request', (_req, res) => {
      inFlight++
      res.on('close', () => inFlight--)
    })
    // A short floor between polls keeps 20 cuts quick; the default one is client-defences'.
    const client = createClient<Events>({
      url: running.url,
      topics: ['t'],
      transport,
      pollTimeoutMs: 2_000,
      minPollMs: 20,
    })
    const { got, states } = track(client)
    await vi.waitFor(() => expect(client.state).toBe('open'))

    const cuts = new Set<number>()
    while (cuts.size < 20) cuts.add(50 + Math.floor(random() * 1_900))
    let destroyed = 0
    let done = 0
    const opens = () => states.filter((s) => s === 'open').length
    for (let i = 0; i < 2_000; i++) {
      await hub.publish({ type: 'n', topic: 't', data: i })
      if (i % 10 === 0) await tick()
      if (cuts.has(i)) {
        // Cut a live connection, not a client that is still between attempts (nor one that
        // has not noticed the previous cut yet).
        await vi.waitFor(() => {
          expect(client.state).toBe('open')
          expect(sockets.size).toBeGreaterThan(0)
          if (transport === 'sse') expect(opens()).toBeGreaterThan(done)
          else expect(inFlight).toBeGreaterThan(0)
        })
        destroyed += sockets.destroyAll()
        done++
      }
    }
    await vi.waitFor(() => expect(got.length).toBeGreaterThanOrEqual(2_000), { timeout: 20_000, interval: 20 })
    await tick()
    expect(got, `seed ${seed}`).toEqual(range(2_000))
    expect(destroyed).toBeGreaterThanOrEqual(20)
    const drops = states.filter((s) => s === 'reconnecting').length
    // Every cut of an open stream is a drop; a long-poll cut between requests may go unnoticed.
    if (transport === 'sse') expect(drops).toBe(20)
    else expect(drops).toBeGreaterThan(0)
    expect(client.state).toBe('open')
  })
})

describe('stalled streams', () => {
  test('a stream whose socket stays open but goes silent is detected and resumed without loss', async () => {
    const hub = createHub<Events>({ retryMs: 10, heartbeatMs: 100 })
    const running = await serveHub(hub, 'node')
    const proxy = await startProxy(running.origin)
    cleanup.push(
      () => running.close(),
      () => hub.close(),
      () => proxy.close(),
    )
    // Real timers, observed: which delays fired tells what ended the stall, however busy the
    // machine is (no assertion on elapsed wall time).
    const fired: number[] = []
    const timers = {
      setTimeout: (fn: () => void, ms: number) =>
        setTimeout(() => {
          fired.push(ms)
          fn()
        }, ms),
      clearTimeout: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    }
    const client = createClient<Events>({ url: `${proxy.origin}/events`, topics: ['t'], transport: 'sse', timers })
    const { got, states } = track(client)
    await vi.waitFor(() => expect(client.state).toBe('open'))
    for (const n of range(10)) await hub.publish({ type: 'n', topic: 't', data: n })
    await vi.waitFor(() => expect(got).toHaveLength(10))

    const firedBefore = fired.length
    expect(proxy.stall()).toBe(1)
    for (const n of range(10, 10)) await hub.publish({ type: 'n', topic: 't', data: n })
    await vi.waitFor(() => expect(got).toHaveLength(20), { timeout: 10_000 })
    expect(got).toEqual(range(20))
    expect(states).toEqual(['open', 'reconnecting', 'open'])
    // Heartbeats every 100 ms: the watchdog (2.5 of them) is what ended the stall.
    expect(fired.slice(firedBefore)).toContain(250)
  })

  test('a server that opens the stream and says nothing more is left, and not piled up', async () => {
    let requests = 0
    let openNow = 0
    const server = createServer((req, res) => {
      requests++
      openNow++
      req.on('close', () => openNow--)
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write('retry: 10\nid: 1-0\nevent: rt.connected\ndata: {"heartbeatMs":100}\n\n')
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    cleanup.push(async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    })
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`
    const client = createClient<Events>({ url, topics: ['t'], transport: 'sse' })
    const { states } = track(client)
    await vi.waitFor(() => expect(requests).toBeGreaterThanOrEqual(4), { timeout: 5_000 })
    expect(states.filter((s) => s === 'reconnecting').length).toBeGreaterThanOrEqual(3)
    expect(openNow).toBeLessThanOrEqual(1)
    client.close()
    await vi.waitFor(() => expect(openNow).toBe(0))
  })
})
