/**
 * @rt/client against hostile servers over real HTTP: server-dictated delays are floored
 * and capped, an endless line is cut off, redirects are not followed with the app's
 * headers, and a 200 that is not an event stream is reported. Time is virtual where
 * delays are asserted.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { type ClientOptions, createClient, isRtError, type RtError } from '@rt/client'
import { afterEach, describe, expect, test, vi } from 'vitest'
import { type ManualTimers, manualTimers } from '../packages/client/test/manual-timers.js'
import { type Running, serveListener } from './support/servers.js'

/** The largest delay Node's timers take; anything above fires after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void

/** A server that answers its n-th request with `handler`, and records what each request carried. */
async function hostile(handler: Handler): Promise<Running & { requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = []
  const running = await serveListener((req, res) => {
    requests.push(req)
    handler(req, res, requests.length)
  })
  cleanup.push(() => running.close())
  return { ...running, requests }
}

const connected = (heartbeatMs = 1_000) => `id: 0-0\nevent: rt.connected\ndata: ${JSON.stringify({ heartbeatMs })}\n\n`

function stream(res: ServerResponse, body: string, end = true): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' })
  if (end) res.end(body)
  else res.write(body)
}

function start(url: string, options: Partial<ClientOptions> = {}) {
  const clock = manualTimers()
  const errors: unknown[] = []
  const client = createClient({
    url,
    topics: ['t'],
    transport: 'sse',
    timers: clock.timers,
    random: () => 0,
    connectTimeoutMs: MAX_TIMER_MS,
    onError: (error) => errors.push(error),
    ...options,
  })
  cleanup.push(() => client.close())
  return { client, clock, errors }
}

/**
 * The delay the client scheduled before its next attempt, read once it is waiting: then
 * the one timer pending is neither the connect deadline (`MAX_TIMER_MS` in these tests)
 * nor the watchdog of an open stream (2.5 heartbeats of 1 s).
 */
async function scheduledDelay(clock: ManualTimers): Promise<number> {
  await vi.waitFor(() => {
    expect(clock.pending).toBe(1)
    expect([MAX_TIMER_MS, 2_500]).not.toContain(clock.nextDelay())
  })
  return clock.nextDelay() as number
}

const codes = (errors: unknown[]) => errors.map((e) => (isRtError(e) ? e.code : String(e)))

describe('delays the server sends are floored and capped', () => {
  test('retry: 0 does not make the client reconnect at once, and jitter is kept', async () => {
    const server = await hostile((_req, res) => stream(res, `retry: 0\n${connected()}`))
    const low = start(server.url, { random: () => 0 })
    await vi.waitFor(() => expect(server.requests.length).toBeGreaterThanOrEqual(1))
    const lowDelay = await scheduledDelay(low.clock)
    expect(lowDelay).toBeGreaterThanOrEqual(100)
    const high = start(server.url, { random: () => 0.99 })
    const highDelay = await scheduledDelay(high.clock)
    expect(highDelay).toBeGreaterThan(lowDelay)
    expect(highDelay).toBeLessThanOrEqual(30_000)
  })

  test('a retry: beyond what a timer can hold is cut to maxRetryMs', async () => {
    const server = await hostile((_req, res) => stream(res, `retry: 99999999999999\n${connected()}`))
    const { clock } = start(server.url, { random: () => 0.99, maxRetryMs: 20_000 })
    expect(await scheduledDelay(clock)).toBeLessThanOrEqual(20_000)
  })

  test.each([
    ['seconds', '99999999999'],
    ['an HTTP date', 'Fri, 31 Dec 9999 23:59:59 GMT'],
  ])('Retry-After in %s beyond a timer is cut to maxRetryMs', async (_kind, header) => {
    const server = await hostile((_req, res) => {
      res.writeHead(503, { 'retry-after': header, 'content-type': 'application/json' })
      res.end('{"error":{"code":"unavailable","message":"busy"}}')
    })
    const { clock } = start(server.url, { maxRetryMs: 20_000 })
    const delay = await scheduledDelay(clock)
    expect(delay).toBeLessThanOrEqual(20_000)
    expect(delay).toBeGreaterThanOrEqual(100)
  })

  test('Retry-After within bounds is still honoured', async () => {
    const server = await hostile((_req, res) => {
      res.writeHead(429, { 'retry-after': '7' })
      res.end()
    })
    const { clock } = start(server.url)
    expect(await scheduledDelay(clock)).toBe(7_000)
  })

  test.each([
    ['huge', 1e13],
    ['negative', -5],
  ])(
    'a %s heartbeatMs in rt.connected gives a watchdog a timer can hold, not one that fires at once',
    async (_kind, heartbeatMs) => {
      const server = await hostile((_req, res) => stream(res, connected(heartbeatMs), false))
      const { client, clock } = start(server.url)
      await vi.waitFor(() => expect(client.state).toBe('open'))
      const watchdog = clock.nextDelay() as number
      expect(watchdog).toBeLessThanOrEqual(MAX_TIMER_MS)
      expect(watchdog).toBeGreaterThanOrEqual(100)
    },
  )
})

describe('long-poll answers that come back at once', () => {
  const empty = (res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ events: [], lastEventId: '0-0', reset: false }))
  }

  test('are paced: ten polls take ten jittered floors, not one burst', async () => {
    const server = await hostile((_req, res) => empty(res))
    const { clock } = start(server.url, { transport: 'poll', random: () => 0.5, minPollMs: 1_000 })
    const sentAt: number[] = []
    for (let n = 1; n <= 10; n++) {
      await vi.waitFor(() => expect(server.requests.length).toBeGreaterThanOrEqual(n))
      sentAt.push(clock.now)
      const delay = await scheduledDelay(clock)
      // Answered, and waiting: no request beyond the n-th went out.
      expect(server.requests.length).toBe(n)
      await clock.advance(delay)
    }
    // 1 s floor, jittered at 0.5 up to 2 s: 1.5 s from the start of one poll to the next.
    expect(sentAt.slice(1).map((t, i) => t - (sentAt[i] as number))).toEqual(Array(9).fill(1_500))
  })

  test('the default floor holds too, and a server that answers with events is paced as well', async () => {
    let n = 0
    const server = await hostile((_req, res) => {
      n++
      res.writeHead(200, { 'content-type': 'application/json' })
      const event = { id: `0-${n}`, type: 'm', topic: 't', ts: 0, data: n }
      res.end(JSON.stringify({ events: [event], lastEventId: `0-${n}`, reset: false }))
    })
    const { client, clock } = start(server.url, { transport: 'poll', random: () => 0 })
    const got: unknown[] = []
    client.on('m', (data) => got.push(data))
    await vi.waitFor(() => expect(got).toEqual([1]))
    expect(await scheduledDelay(clock)).toBe(250)
    expect(server.requests).toHaveLength(1)
  })

  test('an answer of a hundred events (a page of a catch-up) is followed at once', async () => {
    let n = 0
    const server = await hostile((_req, res) => {
      const events = Array.from({ length: n < 2 ? 100 : 1 }, (_, i) => {
        const id = `0-${n * 100 + i + 1}`
        return { id, type: 'm', topic: 't', ts: 0, data: id }
      })
      n++
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ events, lastEventId: events.at(-1)?.id, reset: false }))
    })
    const { client, clock } = start(server.url, { transport: 'poll', random: () => 0 })
    let got = 0
    client.on('m', () => got++)
    // Two full pages go back to back; the third, short answer waits for the floor.
    await vi.waitFor(() => expect(got).toBe(201))
    expect(server.requests).toHaveLength(3)
    expect(clock.now).toBe(0)
    expect(await scheduledDelay(clock)).toBe(250)
    expect(server.requests).toHaveLength(3)
  })

  test('a poll the server held past the floor is followed at once', async () => {
    let held: ServerResponse | undefined
    const server = await hostile((_req, res, n) => {
      if (n === 2) held = res
      else empty(res)
    })
    const { clock } = start(server.url, { transport: 'poll', random: () => 0, minPollMs: 1_000 })
    await clock.advance(await scheduledDelay(clock))
    await vi.waitFor(() => expect(held).toBeDefined())
    // The server holds the second poll for 5 s of the client's time, then answers.
    await clock.advance(5_000)
    empty(held as ServerResponse)
    await vi.waitFor(() => expect(server.requests).toHaveLength(3))
    expect(clock.now).toBe(6_000)
  })
})

describe('sseRetryMs: 0 and a stream that always fails', () => {
  test('SSE is tried again no sooner than the reconnect floor, not in a loop', async () => {
    /** The client's time at each SSE request. */
    const streamsAt: number[] = []
    let clock: ManualTimers | undefined
    const server = await hostile((req, res) => {
      // Long-poll requests are held; streams fail at once, up to the sixth, which is held
      // too (so a client that loops stops there, and the test with it).
      if (req.url?.includes('transport=poll')) return
      streamsAt.push(clock?.now ?? 0)
      if (streamsAt.length === 6) return
      res.writeHead(502, { 'content-type': 'application/json' })
      res.end('{"error":{"code":"bad_gateway","message":"no upstream"}}')
    })
    const running = start(server.url, { transport: 'auto', sseRetryMs: 0, fallbackAfter: 1 })
    clock = running.clock
    // From timer to timer: each step waits for the client to wait on one (not a request's deadline).
    while (streamsAt.length < 6) {
      const next = await vi.waitFor(() => {
        const delay = running.clock.nextDelay()
        expect(delay).toBeLessThan(MAX_TIMER_MS)
        return delay as number
      })
      await running.clock.advance(next)
    }
    // Each failed stream switches to long-poll; the next stream waits for the floor (100 ms,
    // jittered at 0 here) although sseRetryMs is 0.
    const gaps = streamsAt.slice(1).map((t, i) => t - (streamsAt[i] as number))
    expect(gaps).toEqual([100, 100, 100, 100, 100])
    const polls = server.requests.filter((req) => req.url?.includes('transport=poll'))
    expect(polls.length).toBeGreaterThanOrEqual(5)
  })
})

describe('an endless line', () => {
  test('is cut off at maxMessageSize, reported, and the client reconnects', async () => {
    let total = 0
    const server = await hostile((_req, res, n) => {
      if (n > 1) return stream(res, connected(), false)
      stream(res, `${connected()}data: `, false)
      // 16 KiB at a time, never a newline, until the client hangs up (or 8 MiB).
      const chunk = 'x'.repeat(16_384)
      const pump = () => {
        while (total < 8 * 1_048_576 && !res.destroyed) {
          total += chunk.length
          if (!res.write(chunk)) return void res.once('drain', pump)
        }
      }
      pump()
    })
    const { client, clock, errors } = start(server.url, { maxMessageSize: 65_536 })
    await vi.waitFor(() => expect(codes(errors)).toContain('too_large'))
    const error = errors.find((e) => isRtError(e) && e.code === 'too_large') as RtError
    expect(error.message).toMatch(/65536/)
    // The stream was dropped long before the server's 8 MiB were sent.
    expect(total).toBeLessThan(4 * 1_048_576)
    await clock.advance(await scheduledDelay(clock))
    await vi.waitFor(() => expect(server.requests.length).toBe(2))
    await vi.waitFor(() => expect(client.state).toBe('open'))
  })
})

describe('redirects', () => {
  for (const transport of ['sse', 'poll'] as const) {
    test(`${transport}: a redirect to another origin is not followed, so the token and Last-Event-ID stay home`, async () => {
      const elsewhere = await hostile((_req, res) => {
        if (transport === 'poll') {
          res.writeHead(200, { 'content-type': 'application/json' })
          return void res.end('{"events":[],"lastEventId":"9-9","reset":false}')
        }
        stream(res, connected(), false)
      })
      const server = await hostile((_req, res) => {
        res.writeHead(307, { location: `${elsewhere.url}?stolen=1` })
        res.end()
      })
      const { clock, errors } = start(server.url, {
        transport,
        headers: { 'x-token': 'secret' },
        lastEventId: '5-0',
      })
      await vi.waitFor(() => expect(codes(errors)).toContain('redirect'))
      await clock.advance(1_000)
      await vi.waitFor(() => expect(server.requests.length).toBeGreaterThanOrEqual(2))
      expect(elsewhere.requests).toHaveLength(0)
      expect(server.requests[0]?.headers['x-token']).toBe('secret')
    })
  }
})

describe('a 200 that is not an event stream', () => {
  test('SSE: text/html is reported through onError, and retried with backoff', async () => {
    const server = await hostile((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('<!doctype html><p>login</p>')
    })
    const { clock, errors } = start(server.url)
    await vi.waitFor(() => expect(codes(errors)).toEqual(['protocol']))
    expect(String((errors[0] as RtError).message)).toMatch(/text\/event-stream/)
    expect(await scheduledDelay(clock)).toBeGreaterThanOrEqual(100)
  })

  test('long-poll: a 200 that is not JSON is reported through onError', async () => {
    const server = await hostile((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('<!doctype html><p>login</p>')
    })
    const { errors } = start(server.url, { transport: 'poll' })
    await vi.waitFor(() => expect(codes(errors)).toContain('protocol'))
  })
})
