/**
 * The transport loop against an in-memory fetch and virtual time: reconnects, watchdog,
 * fallback, 401 handling and options, each step observed on the requests it makes.
 */
import { afterEach, describe, expect, test } from 'vitest'
import { type FakeFetch, fakeFetch, sseEvent, sseOpen } from '../test/fake-fetch.js'
import { type ManualTimers, manualTimers, settle } from '../test/manual-timers.js'
import { createClient } from './client.js'
import { isRtError } from './errors.js'
import type { Client, ClientOptions, ClientState } from './types.js'

type Events = { m: number }

const open: Client<Events>[] = []
afterEach(() => {
  for (const client of open.splice(0)) client.close()
})

function start(options: Partial<ClientOptions<Events>> = {}) {
  const server = fakeFetch()
  const clock = manualTimers()
  const client = createClient<Events>({
    url: 'http://rt.test/events',
    topics: ['t'],
    fetch: server.fetch,
    timers: clock.timers,
    random: () => 0.5,
    // The delays asserted here are the backoff's own; the floors are e2e/client-defences.test.ts's.
    minRetryMs: 0,
    minPollMs: 0,
    ...options,
  })
  open.push(client)
  const got: string[] = []
  client.on('m', (data, meta) => got.push(`${meta.id}:${data}`))
  const states: ClientState[] = []
  client.onState((state) => states.push(state))
  return { server, clock, client, got, states }
}

/** Answers the next request with an open stream that says `rt.connected`. */
async function connect(server: FakeFetch, head?: string, heartbeatMs = 1_000) {
  const request = await server.next()
  const stream = request.stream()
  stream.send(sseOpen(heartbeatMs, head))
  await settle()
  return { request, stream }
}

async function until(clock: ManualTimers, server: FakeFetch, count: number, stepMs = 100, maxMs = 120_000) {
  for (let t = 0; server.requests.length < count && t < maxMs; t += stepMs) await clock.advance(stepMs)
  expect(server.requests.length).toBeGreaterThanOrEqual(count)
}

describe('SSE', () => {
  test('subscribes, delivers typed events, and resumes after a drop with Last-Event-ID and no repeats', async () => {
    const { server, clock, client, got, states } = start({ types: ['m'] })
    const { request, stream } = await connect(server, '0-0')
    expect(request.url.searchParams.get('topics')).toBe('t')
    expect(request.url.searchParams.get('types')).toBe('m')
    expect(request.headers.accept).toBe('text/event-stream')
    expect(request.headers['last-event-id']).toBeUndefined()
    expect(client.state).toBe('open')
    stream.send(sseEvent('0-1', 'm', 1) + sseEvent('0-2', 'm', 2))
    await settle()
    stream.fail()
    await settle()
    expect(client.state).toBe('reconnecting')
    // retry: 100 from the server, full jitter at 0.5: 50 ms.
    expect(server.requests).toHaveLength(1)
    await clock.advance(50)
    const again = await connect(server)
    expect(again.request.headers['last-event-id']).toBe('0-2')
    // The server repeats 0-2 (say, a proxy replayed it): dropped by id.
    again.stream.send(sseEvent('0-2', 'm', 2) + sseEvent('0-3', 'm', 3))
    await settle()
    expect(got).toEqual(['0-1:1', '0-2:2', '0-3:3'])
    expect(client.lastEventId).toBe('0-3')
    expect(states).toEqual(['open', 'reconnecting', 'open'])
  })

  test('the watchdog reconnects after 2.5 heartbeats of silence, and heartbeats keep the stream', async () => {
    const { server, clock } = start()
    const { stream, request } = await connect(server, '0-0', 1_000)
    for (let i = 0; i < 10; i++) {
      await clock.advance(1_000)
      stream.send(':\n\n')
    }
    expect(server.requests).toHaveLength(1)
    await clock.advance(2_499)
    expect(request.signal?.aborted).toBe(false)
    await clock.advance(1)
    expect(request.signal?.aborted).toBe(true)
    await clock.advance(50)
    expect(server.requests).toHaveLength(2)
    expect(server.requests[1]?.headers['last-event-id']).toBe('0-0')
  })

  test('rt.closing: the server is going away, the client comes back after one short jittered delay', async () => {
    const { server, clock } = start()
    const { stream } = await connect(server, '0-0')
    stream.send('event: rt.closing\ndata: {"reason":"shutdown"}\n\n')
    stream.end()
    await clock.advance(49)
    expect(server.requests).toHaveLength(1)
    await clock.advance(1)
    expect(server.requests).toHaveLength(2)
  })

  test('backoff grows while the server is down, capped at maxRetryMs', async () => {
    const { server, clock } = start({ retryMs: 1_000, maxRetryMs: 8_000, transport: 'sse' })
    server.failNext(7)
    await settle()
    const times = [clock.now]
    while (server.requests.length < 7) {
      // Step from timer to timer, so each request is seen at the moment it is made.
      await clock.advance(clock.nextDelay() ?? 100)
      if (server.requests.length > times.length) times.push(clock.now)
    }
    const delays = times.slice(1).map((t, i) => t - (times[i] as number))
    // Full jitter at 0.5 of 1 s, 2 s, 4 s, 8 s, then the 8 s cap.
    expect(delays).toEqual([500, 1_000, 2_000, 4_000, 4_000, 4_000])
  })

  test('reset and presence reach their listeners; a listener that throws is reported, others still run', async () => {
    const errors: unknown[] = []
    const { server, client, got } = start({ presence: true, onError: (error) => errors.push(error) })
    const resets: unknown[] = []
    const presence: unknown[] = []
    client.on('reset', (info) => resets.push(info))
    client.on('presence', (info) => presence.push(info))
    client.on('m', () => {
      throw new Error('boom')
    })
    const { request, stream } = await connect(server, '0-0')
    expect(request.url.searchParams.get('presence')).toBe('1')
    stream.send('event: rt.presence\ndata: {"topic":"t","online":["u1"]}\n\n')
    stream.send('id: 5-0\nevent: rt.reset\ndata: {"reason":"unknown"}\n\n')
    stream.send(sseEvent('5-1', 'm', 1))
    await settle()
    expect(presence).toEqual([{ topic: 't', online: ['u1'] }])
    expect(resets).toEqual([{ reason: 'unknown' }])
    expect(got).toEqual(['5-1:1'])
    expect(errors).toHaveLength(1)
    const error = errors[0]
    expect(isRtError(error) && error.code).toBe('listener')
    expect(((error as Error).cause as Error).message).toBe('boom')
  })

  test('an unreadable event is reported as a protocol error and skipped', async () => {
    const errors: unknown[] = []
    const { server, got } = start({ onError: (error) => errors.push(error) })
    const { stream } = await connect(server, '0-0')
    stream.send('id: 0-1\nevent: m\ndata: {oops\n\n')
    stream.send(sseEvent('0-2', 'm', 2))
    await settle()
    expect(got).toEqual(['0-2:2'])
    expect(isRtError(errors[0]) && errors[0].code).toBe('protocol')
  })
})

describe('auto fallback', () => {
  test('a buffered stream (no rt.connected in time) switches to long-poll, which tries SSE again later', async () => {
    const { server, clock, client, got } = start({ connectTimeoutMs: 3_000, sseRetryMs: 60_000 })
    const buffered = await server.next()
    buffered.stream() // headers arrive, the body is held back
    await clock.advance(2_999)
    expect(server.requests).toHaveLength(1)
    await clock.advance(1)
    expect(buffered.signal?.aborted).toBe(true)
    const first = await server.next()
    expect(first.url.searchParams.get('transport')).toBe('poll')
    expect(first.url.searchParams.get('timeout')).toBe('25000')
    expect(first.headers.accept).toBe('application/json')
    expect(client.transport).toBe('poll')
    first.reply(200, { events: [], lastEventId: '0-0', reset: false, heartbeatMs: 1_000, retryMs: 100 })
    const second = await server.next()
    expect(second.headers['last-event-id']).toBe('0-0')
    expect(client.state).toBe('open')
    second.reply(200, {
      events: [{ id: '0-1', type: 'm', topic: 't', ts: 1, data: 1 }],
      lastEventId: '0-1',
      reset: false,
    })
    const third = await server.next()
    expect(got).toEqual(['0-1:1'])
    // The probe: SSE again after sseRetryMs, aborting the waiting poll.
    await clock.advance(60_000)
    expect(third.signal?.aborted).toBe(true)
    const probe = await server.next()
    expect(probe.url.searchParams.get('transport')).toBeNull()
    expect(probe.headers['last-event-id']).toBe('0-1')
    probe.stream()
    await clock.advance(3_000)
    // Still buffered: back to long-poll at once.
    expect((await server.next()).url.searchParams.get('transport')).toBe('poll')
  })

  test('three failed streams in a row switch to long-poll; transport "sse" never does', async () => {
    const auto = start({ fallbackAfter: 3 })
    auto.server.failNext(3)
    await until(auto.clock, auto.server, 4)
    expect(auto.server.requests[3]?.url.searchParams.get('transport')).toBe('poll')
    const sse = start({ transport: 'sse' })
    sse.server.failNext(5)
    await until(sse.clock, sse.server, 6)
    expect(sse.server.requests.every((r) => r.url.searchParams.get('transport') === null)).toBe(true)
  })

  test('a stream-wide reset in a poll answer reaches reset listeners and moves to its position', async () => {
    const { server, client } = start({ transport: 'poll', lastEventId: 'old-1' })
    const resets: unknown[] = []
    client.on('reset', (info) => resets.push(info))
    const first = await server.next()
    expect(first.headers['last-event-id']).toBe('old-1')
    first.reply(200, { events: [], lastEventId: '7-3', reset: true, reason: 'evicted' })
    const second = await server.next()
    expect(resets).toEqual([{ reason: 'evicted' }])
    expect(second.headers['last-event-id']).toBe('7-3')
  })
})

describe('the long-poll floor', () => {
  test('update() and close() end the wait at once', async () => {
    const { server, clock, client } = start({ transport: 'poll', minPollMs: 1_000 })
    const answer = { events: [], lastEventId: '0-1', reset: false }
    ;(await server.next()).reply(200, answer)
    await settle()
    // Answered at once: the next poll waits 1 s, jittered at 0.5 to 1.5 s from the first.
    expect(clock.nextDelay()).toBe(1_500)
    client.update({ topics: ['u'] })
    const next = await server.next()
    expect([next.url.searchParams.get('topics'), next.headers['last-event-id']]).toEqual(['u', '0-1'])
    next.reply(200, answer)
    await settle()
    expect(clock.pending).toBe(1)
    client.close()
    expect(clock.pending).toBe(0)
    await clock.advance(10_000)
    expect(server.requests).toHaveLength(2)
  })
})

describe('refusals', () => {
  test('401: unauthorized, the hook refreshes, fresh credentials are tried at once, the same ones after a backoff', async () => {
    let token = 'old'
    const calls: number[] = []
    const { server, clock, client, states } = start({
      retryMs: 100,
      headers: async () => ({ authorization: token }),
      onUnauthorized: (attempt) => {
        calls.push(attempt)
        if (attempt === 3) token = 'new'
        return true
      },
    })
    ;(await server.next()).reply(401, { error: { code: 'unauthorized', message: 'authentication required' } })
    await settle()
    expect(client.state).toBe('unauthorized')
    await clock.advance(0)
    ;(await server.next()).reply(401, {})
    await settle()
    // Second 401 in a row: wait backoff(0) = 50 ms.
    expect(server.waiting).toHaveLength(0)
    await clock.advance(50)
    const third = await server.next()
    expect(third.headers.authorization).toBe('old')
    third.reply(401, {})
    await clock.advance(100)
    const fourth = await server.next()
    expect(fourth.headers.authorization).toBe('new')
    fourth.stream().send(sseOpen())
    await settle()
    expect(calls).toEqual([1, 2, 3])
    expect(states).toEqual(['unauthorized', 'open'])
  })

  test('401 with a hook that says no: no more requests until reconnect()', async () => {
    const { server, clock, client } = start({ onUnauthorized: () => false })
    ;(await server.next()).reply(401, {})
    await clock.advance(600_000)
    expect(server.requests).toHaveLength(1)
    expect(client.state).toBe('unauthorized')
    client.reconnect()
    await connect(server)
    expect(client.state).toBe('open')
  })

  test('429 and 503: Retry-After is honoured', async () => {
    const { server, clock } = start()
    ;(await server.next()).reply(429, {}, { 'retry-after': '5' })
    await clock.advance(4_999)
    expect(server.requests).toHaveLength(1)
    await clock.advance(1)
    ;(await server.next()).reply(503, {}, { 'retry-after': '2' })
    await clock.advance(1_999)
    expect(server.requests).toHaveLength(2)
    await clock.advance(1)
    expect(server.requests).toHaveLength(3)
  })

  test('403 closes the client for good and says why', async () => {
    const errors: unknown[] = []
    const { server, clock, client } = start({ onError: (error) => errors.push(error) })
    ;(await server.next()).reply(403, {
      error: { code: 'forbidden', message: 'not allowed to subscribe to topic "t"' },
    })
    await clock.advance(60_000)
    expect(client.state).toBe('closed')
    expect(server.requests).toHaveLength(1)
    const error = errors[0]
    expect(isRtError(error) && [error.code, error.status, error.message]).toEqual([
      'rejected',
      403,
      'not allowed to subscribe to topic "t"',
    ])
  })
})

describe('options and controls', () => {
  test('update() reconnects with the new topics from the same position', async () => {
    const { server, client } = start()
    const { request, stream } = await connect(server, '0-0')
    stream.send(sseEvent('0-4', 'm', 4))
    await settle()
    client.update({ topics: ['t', 'u'], types: ['m'] })
    expect(request.signal?.aborted).toBe(true)
    const next = await server.next()
    expect(next.url.searchParams.get('topics')).toBe('t,u')
    expect(next.url.searchParams.get('types')).toBe('m')
    expect(next.headers['last-event-id']).toBe('0-4')
  })

  test('the signal closes the client: request aborted, state closed, listeners gone', async () => {
    const controller = new AbortController()
    const { server, client, states, got } = start({ signal: controller.signal })
    const { request, stream } = await connect(server, '0-0')
    controller.abort()
    expect(request.signal?.aborted).toBe(true)
    expect(client.state).toBe('closed')
    expect(states).toEqual(['open', 'closed'])
    stream.send(sseEvent('0-1', 'm', 1))
    await settle()
    expect(got).toEqual([])
    const aborted = new AbortController()
    aborted.abort()
    const never = start({ signal: aborted.signal })
    await settle()
    expect(never.client.state).toBe('closed')
    expect(never.server.requests).toHaveLength(0)
  })

  test('once fires once; off removes', async () => {
    const { server, client } = start()
    const seen: number[] = []
    client.once('m', (data) => seen.push(data))
    const twice = (data: number) => seen.push(data * 10)
    client.on('m', twice)
    const { stream } = await connect(server, '0-0')
    stream.send(sseEvent('0-1', 'm', 1))
    await settle()
    client.off('m', twice)
    stream.send(sseEvent('0-2', 'm', 2))
    await settle()
    expect(seen).toEqual([1, 10])
  })

  test('acks: received ids are posted in one batch with the same headers, and flushed on close', async () => {
    const { server, clock, client } = start({ ack: true, ackDelayMs: 100, headers: { authorization: 'Bearer x' } })
    const { stream } = await connect(server, '0-0')
    stream.send(sseEvent('0-1', 'm', 1) + sseEvent('0-2', 'm', 2))
    await clock.advance(100)
    const post = server.requests[1]
    expect(post?.method).toBe('POST')
    expect(post?.url.href).toBe('http://rt.test/events')
    expect(post?.headers.authorization).toBe('Bearer x')
    expect(JSON.parse(post?.body ?? '')).toEqual({ ack: ['0-1', '0-2'] })
    post?.reply(204)
    stream.send(sseEvent('0-3', 'm', 3))
    await settle()
    client.close()
    await settle()
    expect(JSON.parse(server.requests[2]?.body ?? '')).toEqual({ ack: ['0-3'] })
  })

  test('persist: the last id is stored per URL and topics and picked up by the next client; a seed wins', async () => {
    const items = new Map<string, string>()
    const storage = {
      getItem: (key: string) => items.get(key) ?? null,
      setItem: (key: string, value: string) => void items.set(key, value),
    }
    const globals = globalThis as { sessionStorage?: unknown }
    globals.sessionStorage = storage
    try {
      const first = start({ persist: 'session' })
      const { stream } = await connect(first.server, '0-0')
      stream.send(sseEvent('0-7', 'm', 7))
      await settle()
      expect([...items.values()]).toEqual(['0-7'])
      first.client.close()
      const second = start({ persist: 'session' })
      expect((await second.server.next()).headers['last-event-id']).toBe('0-7')
      const seeded = start({ persist: 'session', lastEventId: '0-3' })
      expect((await seeded.server.next()).headers['last-event-id']).toBe('0-3')
      const other = start({ persist: 'session', topics: ['other'] })
      expect((await other.server.next()).headers['last-event-id']).toBeUndefined()
    } finally {
      delete globals.sessionStorage
    }
  })
})
