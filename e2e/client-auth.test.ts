/**
 * 401 handling against a real hub over real HTTP, with the client's time driven by the
 * test: ten seconds of refused credentials cost a bounded number of requests, and a
 * refreshed token resumes exactly where the stream stopped.
 */
import { type Client, type ClientState, createClient } from '@rt/client'
import { createHub } from '@rt/server'
import { afterEach, expect, test, vi } from 'vitest'
import { manualTimers, settle } from '../packages/client/test/manual-timers.js'
import { trackSockets } from './support/proxies.js'
import { serveHub } from './support/servers.js'

type Events = { n: number }

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i)

/**
 * Hands the client a response only once it is complete (a refusal) or has sent its first
 * bytes (a stream), so "no request in flight" means the client is waiting on its timers.
 */
async function settled(res: Response): Promise<Response> {
  if (res.status !== 200 || res.body === null) {
    const body = res.status === 204 ? null : await res.arrayBuffer()
    return new Response(body, { status: res.status, headers: res.headers })
  }
  const reader = res.body.getReader()
  const first = await reader.read()
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (first.done) controller.close()
      else controller.enqueue(first.value)
    },
    async pull(controller) {
      const { done, value } = await reader.read()
      if (done) controller.close()
      else controller.enqueue(value)
    },
    cancel: (reason) => reader.cancel(reason),
  })
  return new Response(body, { status: 200, headers: res.headers })
}

test('401: unauthorized, bounded requests over 10 s of refusals, then a refreshed token resumes with no loss', async () => {
  let valid = 'token-1'
  const hub = createHub<Events>({
    retryMs: 1_000,
    authenticate: (req) => (req.headers.get('authorization') === `Bearer ${valid}` ? { userId: 'u1' } : null),
  })
  const running = await serveHub(hub, 'node')
  cleanup.push(
    () => running.close(),
    () => hub.close(),
  )
  const sockets = trackSockets(running.server)
  const clock = manualTimers()
  let token = 'token-1'
  let refreshWorks = false
  let inFlight = 0
  const requestTimes: number[] = []
  const hookCalls: number[] = []
  const client: Client<Events> = createClient<Events>({
    url: running.url,
    topics: ['t'],
    timers: clock.timers,
    random: () => 0.5,
    headers: async () => {
      inFlight++
      requestTimes.push(clock.now)
      return { authorization: `Bearer ${token}` }
    },
    fetch: async (input, init) => {
      try {
        return await settled(await fetch(input, init))
      } finally {
        inFlight--
      }
    },
    onUnauthorized: async (attempt) => {
      hookCalls.push(attempt)
      // The token service is down for the first ten seconds.
      if (refreshWorks) token = valid
      return true
    },
  })
  cleanup.push(() => client.close())
  const got: number[] = []
  const states: ClientState[] = []
  client.on('n', (n) => got.push(n))
  client.onState((state) => states.push(state))

  /** Waits until the client is between requests, then moves its clock to its next timer. */
  async function step(limit: number) {
    await vi.waitFor(() => expect(inFlight).toBe(0))
    await settle()
    const next = clock.nextDelay()
    if (next === undefined) throw new Error(`the client waits on no timer (state ${client.state})`)
    await clock.advance(Math.min(next, limit - clock.now))
  }

  await vi.waitFor(() => expect(client.state).toBe('open'))
  for (const n of range(10)) await hub.publish({ type: 'n', topic: 't', data: n })
  await vi.waitFor(() => expect(got).toHaveLength(10))

  // The token expires and the connection drops: every attempt now answers 401.
  valid = 'token-2'
  sockets.destroyAll()
  for (const n of range(20, 10)) await hub.publish({ type: 'n', topic: 't', data: n })
  await vi.waitFor(() => expect(client.state).toBe('reconnecting'))
  const outageStart = clock.now
  const before = requestTimes.length
  while (clock.now < outageStart + 10_000) await step(outageStart + 10_000)
  const during = requestTimes.length - before
  expect(client.state).toBe('unauthorized')
  // A storm would be thousands of requests. Here: the reconnect after the drop (0.6 s), a
  // retry at once after the first 401 and the hook, then backoff: the 100 ms floor plus
  // jitter 0.5 of 1, 2, 4 s (base: the server's `retry: 1000`).
  expect(during).toBeGreaterThanOrEqual(3)
  expect(during).toBeLessThanOrEqual(8)
  expect(requestTimes.slice(before)).toEqual([600, 600, 1_200, 2_300, 4_400, 8_500])
  expect(hookCalls.length).toBe(during)
  expect(got).toHaveLength(10)

  // The token service is back: the next 401 refreshes and the stream resumes.
  refreshWorks = true
  while (client.state !== 'open') await step(Number.POSITIVE_INFINITY)
  for (const n of range(10, 30)) await hub.publish({ type: 'n', topic: 't', data: n })
  await vi.waitFor(() => expect(got).toHaveLength(40))
  expect(got).toEqual(range(40))
  expect(states).toEqual(['open', 'reconnecting', 'unauthorized', 'open'])
})
