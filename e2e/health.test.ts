/**
 * What the health probe and `hub.stats()` reveal. The probe is mounted without auth, so by
 * default it answers counts only: no topic, no user id, no failure text; details need an
 * explicit option. Stats keyed by user input hold every key, `__proto__` included.
 */
import { serve } from '@hono/node-server'
import { createHub, type Hub, type HubStats } from '@rt/server'
import { healthHandler as fetchHealthHandler } from '@rt/server/fetch'
import { healthHandler as nodeHealthHandler } from '@rt/server/node'
import { afterEach, describe, expect, test } from 'vitest'
import { ADAPTERS, serveHub, serveListener } from './support/servers.js'
import { openSse, type SseStream } from './support/sse.js'

const SECRET_TOPIC = 'inbox:ceo@example.com'
const SECRET_USER = 'ceo@example.com'
const SOURCE_ERROR = 'connect ECONNREFUSED 10.0.0.7:27017'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const connected = (stream: SseStream) => stream.until((e) => e.some((x) => x.event === 'rt.connected'))

async function serveHealth(kind: 'node' | 'fetch', hub: Hub, details?: boolean): Promise<string> {
  const options = details === undefined ? undefined : { details }
  if (kind === 'node') {
    const running = await serveListener(nodeHealthHandler(hub, options), '/healthz')
    cleanups.push(() => running.close())
    return running.url
  }
  const handler = fetchHealthHandler(hub, options)
  const server = serve({ fetch: (request) => handler(request), port: 0, hostname: '127.0.0.1' })
  await new Promise<void>((resolve) => server.once('listening', resolve))
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return `http://127.0.0.1:${address.port}/healthz`
}

/** A hub with one stream of `user` to `topics`, and a failed source. */
async function busyHub(user: string, topics: string) {
  const hub = createHub({ authenticate: (req) => ({ userId: req.headers.get('x-user') ?? 'anon' }) })
  cleanups.push(() => hub.close())
  const events = await serveHub(hub, 'node')
  cleanups.push(() => events.close())
  const stream = await openSse(`${events.url}?topics=${encodeURIComponent(topics)}`, { headers: { 'x-user': user } })
  cleanups.push(() => stream.close())
  await connected(stream)
  await hub.attach({ name: 'feed', start: (ctx) => ctx.reportError(new Error(SOURCE_ERROR)), stop() {} })
  return hub
}

describe.each(['node', 'fetch'] as const)('%s healthHandler', (kind) => {
  test('answers counts only by default: no topic, user id or failure text', async () => {
    const hub = await busyHub(SECRET_USER, `${SECRET_TOPIC},news`)
    const res = await fetch(await serveHealth(kind, hub))
    expect(res.status).toBe(503)
    const text = await res.text()
    expect(text).not.toContain(SECRET_TOPIC)
    expect(text).not.toContain(SECRET_USER)
    expect(text).not.toContain('10.0.0.7')
    const report = JSON.parse(text) as Record<string, unknown>
    expect(report).toMatchObject({ status: 'degraded', connections: 1, sources: [{ name: 'feed', state: 'failed' }] })
    expect(report).not.toHaveProperty('topics')
    expect(report).not.toHaveProperty('users')
  })

  test('details: true adds streams per topic and user, and source errors', async () => {
    const hub = await busyHub(SECRET_USER, `${SECRET_TOPIC},news`)
    const report = await (await fetch(await serveHealth(kind, hub, true))).json()
    expect(report).toMatchObject({
      topics: { [SECRET_TOPIC]: 1, news: 1 },
      users: { [SECRET_USER]: 1 },
      sources: [{ name: 'feed', state: 'failed', error: SOURCE_ERROR }],
    })
  })

  test('a topic and a user named __proto__ are counted like any other', async () => {
    const hub = await busyHub('__proto__', '__proto__,constructor')
    const report = (await (await fetch(await serveHealth(kind, hub, true))).json()) as HubStats
    expect(Object.keys(report.topics).sort()).toEqual(['__proto__', 'constructor'])
    expect(Object.entries(report.users)).toEqual([['__proto__', 1]])
  })
})

describe.each(ADAPTERS)('hub.stats() through the %s adapter', (kind) => {
  test('keys a topic and a user named __proto__ as own entries of prototype-free maps', async () => {
    const hub = createHub({ authenticate: () => ({ userId: '__proto__' }) })
    cleanups.push(() => hub.close())
    const events = await serveHub(hub, kind)
    cleanups.push(() => events.close())
    const stream = await openSse(`${events.url}?topics=__proto__,toString`)
    cleanups.push(() => stream.close())
    await connected(stream)
    const { topics, users } = hub.stats()
    expect(Object.getPrototypeOf(topics)).toBe(null)
    expect(Object.getPrototypeOf(users)).toBe(null)
    expect(Object.keys(topics).sort()).toEqual(['__proto__', 'toString'])
    expect(Object.entries(topics).sort()).toEqual([
      ['__proto__', 1],
      ['toString', 1],
    ])
    expect(Object.keys(users)).toEqual(['__proto__'])
    expect(JSON.parse(JSON.stringify({ topics, users }))).toEqual(
      JSON.parse('{"topics":{"__proto__":1,"toString":1},"users":{"__proto__":1}}'),
    )
  })
})
