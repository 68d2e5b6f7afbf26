/**
 * Every refusal the hub documents (docs/protocol.md), through a real server per adapter:
 * the status, the JSON error body, the headers, and that the hub keeps serving afterwards.
 */
import { serve } from '@hono/node-server'
import { createHub, type Hub, type RtRequest } from '@rt/server'
import { healthHandler as fetchHealthHandler } from '@rt/server/fetch'
import { healthHandler as nodeHealthHandler } from '@rt/server/node'
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest'
import { ADAPTERS, type Running, serveHub, serveListener } from './support/servers.js'
import { appEvents, openSse, type SseStream } from './support/sse.js'

/** Internal detail that must reach `onError` and never a client. */
const SECRET = 'connect ECONNREFUSED 10.0.0.7:5432 (password=hunter2)'
const MAX_QUERY = 12_000
const PER_USER = 2

function authenticate(req: RtRequest) {
  const auth = req.headers.get('authorization')
  if (auth === null) return null
  if (auth === 'Bearer explode') throw new Error(SECRET)
  return { userId: auth.replace(/^Bearer /, '') }
}

const as = (user: string) => ({ authorization: `Bearer ${user}` })

interface ErrorBody {
  error: { code: string; message: string }
}

/** Reads an error answer and checks its shape: JSON, `{ error: { code, message } }` and nothing else. */
async function errorOf(res: Response): Promise<ErrorBody['error']> {
  expect(res.headers.get('content-type')).toMatch(/^application\/json/)
  const body = (await res.json()) as ErrorBody
  expect(Object.keys(body)).toEqual(['error'])
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message'])
  expect(typeof body.error.message).toBe('string')
  return body.error
}

/** Polls a condition on hub state that has no event of its own (the server noticing a close). */
async function eventually(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

const connected = (stream: SseStream) => stream.until((e) => e.some((x) => x.event === 'rt.connected'))

describe.each(ADAPTERS)('%s adapter', (kind) => {
  let hub: Hub
  let server: Running
  const errors: unknown[] = []
  const get = (query: string, headers: Record<string, string> = as('alice')) =>
    fetch(`${server.url}${query}`, { headers })

  beforeAll(async () => {
    hub = createHub({
      authenticate,
      authorize: (_identity, topic) => !topic.startsWith('secret'),
      maxConnectionsPerIdentity: PER_USER,
      maxQueryLength: MAX_QUERY,
      onError: (error) => errors.push(error),
    })
    server = await serveHub(hub, kind)
  })
  afterAll(async () => {
    await server.close()
    await hub.close()
  })

  test('401 when authenticate returns null', async () => {
    const res = await get('?topics=a', {})
    expect(res.status).toBe(401)
    expect(await errorOf(res)).toEqual({ code: 'unauthorized', message: 'authentication required' })
  })

  test('403 names the forbidden topic', async () => {
    const res = await get('?topics=a,secret-plans,b')
    expect(res.status).toBe(403)
    const error = await errorOf(res)
    expect(error.code).toBe('forbidden')
    expect(error.message).toContain('"secret-plans"')
  })

  test.each([
    ['an unknown transport', '?topics=a&transport=websocket', /unknown transport "websocket"/],
    ['no topics', '', /at least one topic/],
    ['an empty topic list', '?topics=,,', /at least one topic/],
    ['thousands of topics', `?topics=${Array.from({ length: 2_000 }, (_, i) => `t${i}`).join(',')}`, /at most 100/],
    ['an oversized query string', `?topics=a&pad=${'x'.repeat(MAX_QUERY)}`, /longer than 12000/],
    ['a topic with a line feed', '?topics=a%0Aevent:%20x', /control characters/],
    ['a topic with a NUL', '?topics=a%00', /control characters/],
    ['a type with a carriage return', '?topics=a&types=m%0D', /control characters/],
  ])('400 for %s', async (_, query, message) => {
    const res = await get(query)
    expect(res.status).toBe(400)
    const error = await errorOf(res)
    expect(error.code).toBe('bad_request')
    expect(error.message).toMatch(message)
  })

  test('500 with a generic message when authenticate throws; onError gets the real error', async () => {
    errors.length = 0
    const res = await get('?topics=a', as('explode'))
    expect(res.status).toBe(500)
    const text = await res.clone().text()
    expect(await errorOf(res)).toEqual({ code: 'internal', message: 'internal error' })
    expect(text).not.toMatch(/hunter2|ECONNREFUSED|5432|at [a-zA-Z]+ \(/)
    expect(errors).toHaveLength(1)
    expect((errors[0] as Error).message).toBe(SECRET)
  })

  test('405 for methods the hub does not serve, where the adapter routes them to it', async () => {
    // GET streams and POST carries acknowledgements; nothing else is served.
    for (const method of ['PUT', 'DELETE', 'PATCH']) {
      const res = await fetch(`${server.url}?topics=a`, { method, headers: as('alice'), body: 'x' })
      if (kind === 'fastify') {
        // The plugin registers its own methods only; Fastify answers the rest itself.
        expect(res.status, method).toBe(404)
        await res.body?.cancel()
        continue
      }
      expect(res.status, method).toBe(405)
      expect(res.headers.get('allow')).toMatch(/\bGET\b/)
      expect((await errorOf(res)).code).toBe('method_not_allowed')
    }
    expect(hub.stats().connections).toBe(0)
  })

  test('429 with Retry-After at the per-identity cap; closing a stream frees a slot', async () => {
    const open = await Promise.all(
      Array.from({ length: PER_USER }, () => openSse(`${server.url}?topics=a`, { headers: as('carol') })),
    )
    // Closed even when an assertion fails, so the next tests start from an idle hub.
    onTestFinished(() => {
      for (const stream of open) stream.close()
    })
    await Promise.all(open.map(connected))
    expect(hub.stats().users).toEqual({ carol: PER_USER })

    const refused = await get('?topics=a', as('carol'))
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toBe('5')
    const error = await errorOf(refused)
    expect(error.code).toBe('too_many_connections')
    expect(error.message).toContain(String(PER_USER))

    // Another identity is not affected by carol's cap.
    const dave = await openSse(`${server.url}?topics=a`, { headers: as('dave') })
    expect(dave.status).toBe(200)
    dave.close()

    open[0]?.close()
    await eventually(() => hub.stats().users.carol === PER_USER - 1, 'the closed stream to be released')
    const again = await openSse(`${server.url}?topics=a`, { headers: as('carol') })
    expect(again.status).toBe(200)
    await connected(again)
    for (const stream of [again, ...open]) stream.close()
    await eventually(() => hub.stats().connections === 0, 'every stream to be released')
  })

  test('after all of that the hub keeps serving', async () => {
    await eventually(() => hub.stats().connections === 0, 'earlier streams to be released')
    expect(hub.stats()).toMatchObject({ connections: 0, topics: {}, users: {}, closed: false })
    const stream = await openSse(`${server.url}?topics=a`, { headers: as('erin') })
    expect(stream.status).toBe(200)
    await connected(stream)
    await hub.publish({ type: 'm', topic: 'a', data: 'still here' })
    await stream.until((e) => appEvents(e).length === 1)
    expect(appEvents(stream.events)[0]).toMatchObject({ type: 'm', topic: 'a', data: 'still here' })
    stream.close()
    await eventually(() => hub.stats().connections === 0, 'the stream to be released')
  })

  test('503 with Retry-After once the hub is closed', async () => {
    // Its own hub, so closing it cannot fail the tests above when they run alone or in another order.
    const own = createHub({ authenticate })
    const served = await serveHub(own, kind)
    onTestFinished(() => served.close())
    const stream = await openSse(`${served.url}?topics=a`, { headers: as('frank') })
    await connected(stream)
    await own.close()
    await stream.until((e) => e.some((x) => x.event === 'rt.closing'))
    await stream.ended
    const res = await fetch(`${served.url}?topics=a`, { headers: as('alice') })
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('1')
    expect((await errorOf(res)).code).toBe('hub_closed')
  })
})

describe('healthHandler', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup()
  })

  async function serveHealth(kind: 'node' | 'fetch', hub: Hub): Promise<string> {
    if (kind === 'node') {
      const running = await serveListener(nodeHealthHandler(hub), '/healthz')
      cleanups.push(() => running.close())
      return running.url
    }
    const handler = fetchHealthHandler(hub)
    const server = serve({ fetch: (request) => handler(request), port: 0, hostname: '127.0.0.1' })
    await new Promise<void>((resolve) => server.once('listening', resolve))
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const address = server.address()
    if (address === null || typeof address === 'string') throw new Error('no port')
    return `http://127.0.0.1:${address.port}/healthz`
  }

  test.each(['node', 'fetch'] as const)('%s: 200 with stats, 503 degraded or closed', async (kind) => {
    const hub = createHub()
    const events = await serveHub(hub, 'node')
    cleanups.push(() => events.close())
    const url = await serveHealth(kind, hub)

    const stream = await openSse(`${events.url}?topics=a,b`)
    await connected(stream)
    await hub.publish({ type: 'm', topic: 'a', data: 1 })
    await stream.until((e) => appEvents(e).length === 1)

    const ok = await fetch(url)
    expect(ok.status).toBe(200)
    expect(ok.headers.get('content-type')).toMatch(/^application\/json/)
    expect(ok.headers.get('cache-control')).toBe('no-store')
    expect(await ok.json()).toMatchObject({
      status: 'ok',
      closed: false,
      connections: 1,
      published: 1,
      delivered: 1,
      dropped: 0,
      sources: [],
    })

    let fail: (error: Error) => void = () => {}
    await hub.attach({
      name: 'feed',
      start(ctx) {
        fail = ctx.reportError
      },
      stop() {},
    })
    fail(new Error('lost'))
    const degraded = await fetch(url)
    expect(degraded.status).toBe(503)
    expect(await degraded.json()).toMatchObject({ status: 'degraded', sources: [{ name: 'feed', state: 'failed' }] })

    await hub.close()
    await stream.ended
    const closed = await fetch(url)
    expect(closed.status).toBe(503)
    expect(await closed.json()).toMatchObject({ status: 'closed', closed: true, connections: 0 })
  })
})
