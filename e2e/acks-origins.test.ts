/**
 * Acks and cross-origin use, through a real server per adapter. An ack is a claim by an
 * identity: taken only as JSON, only from an allowed origin, and passed to `onAck` only for
 * ids that identity was allowed to receive (or marked unverified once the log no longer
 * holds them). One `origins` allow list answers preflights, sets CORS headers on streams,
 * long-poll and acks, and drives the cross-site checks; without it, requests that carry
 * cookies must come from the endpoint's own origin.
 */
import { createHub, type Hub, type HubOptions, memoryLog, type RtRequest } from '@rt/server'
import { afterEach, describe, expect, test } from 'vitest'
import { ADAPTERS, type AdapterKind, type Running, serveHub } from './support/servers.js'
import { openSse } from './support/sse.js'

const APP = 'https://app.example'
const EVIL = 'https://evil.example'

interface Ack {
  userId: string
  ids: readonly string[]
  cumulative: boolean
  verified: boolean
}

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Cookie auth (`session=<user>`), as a browser app would use; the `secret` topic is u2's only. */
function authenticate(req: RtRequest) {
  const session = /(?:^|;\s*)session=([^;]+)/.exec(req.headers.get('cookie') ?? '')?.[1]
  return session === undefined ? null : { userId: session }
}

async function setup(kind: AdapterKind, options: HubOptions = {}) {
  const hub: Hub = createHub({
    authenticate,
    authorize: (identity, topic) => topic !== 'secret' || identity.userId === 'u2',
    ...options,
  })
  const acks: Ack[] = []
  hub.onAck((identity, ids, meta) => {
    acks.push({ userId: (identity as { userId: string }).userId, ids, ...meta })
  })
  const server: Running = await serveHub(hub, kind)
  cleanups.push(
    () => hub.close(),
    () => server.close(),
  )
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(server.url, {
      method: 'POST',
      headers: { cookie: 'session=u1', 'content-type': 'application/json', ...headers },
      body,
    })
  return { hub, acks, server, post }
}

const codeOf = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code

describe.each(ADAPTERS)('acks through the %s adapter', (kind) => {
  test('only JSON: text/plain and form bodies, which need no preflight, are refused with 415', async () => {
    const { hub, acks, post } = await setup(kind)
    const id = await hub.publish({ type: 'm', topic: 'a', data: 1 })
    const body = JSON.stringify({ ack: [id] })
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await post(body, { 'content-type': type })
      expect(res.status, type).toBe(415)
      expect(await codeOf(res)).toBe('unsupported_media_type')
    }
    const res = await post(body, { 'content-type': 'Application/JSON; charset=utf-8' })
    expect(res.status).toBe(204)
    expect(acks).toEqual([{ userId: 'u1', ids: [id], cumulative: false, verified: true }])
  })

  test('a cross-site ack is refused before authentication, whatever the content type', async () => {
    const { hub, acks, post, server } = await setup(kind)
    const id = await hub.publish({ type: 'm', topic: 'a', data: 1 })
    const body = JSON.stringify({ ack: [id] })
    const refusals: Record<string, string>[] = [
      { origin: EVIL },
      { origin: EVIL, 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site', origin: 'https://other.app.example' },
      { origin: 'null' },
    ]
    for (const headers of refusals) {
      const res = await post(body, headers)
      expect(res.status, JSON.stringify(headers)).toBe(403)
      expect(await codeOf(res)).toBe('forbidden')
    }
    expect(acks).toEqual([])
    // The endpoint's own origin, and clients that send no Origin (servers, curl), are served.
    expect((await post(body, { origin: server.origin, 'sec-fetch-site': 'same-origin' })).status).toBe(204)
    expect((await post(body, { origin: server.origin })).status).toBe(204)
    expect((await post(body)).status).toBe(204)
    expect(acks).toHaveLength(3)
  })

  test('a cross-site GET with cookies cannot resume, so cannot acknowledge cumulatively', async () => {
    const { hub, acks, server } = await setup(kind)
    const id = await hub.publish({ type: 'm', topic: 'a', data: 1 })
    const sites: Record<string, string>[] = [{ 'sec-fetch-site': 'cross-site' }, { origin: EVIL }]
    for (const site of sites) {
      const poll = await fetch(`${server.url}?topics=a&transport=poll&timeout=0&lastEventId=${id}`, {
        headers: { cookie: 'session=u1', ...site },
      })
      expect(poll.status).toBe(403)
      const sse = await openSse(`${server.url}?topics=a`, {
        lastEventId: id,
        headers: { cookie: 'session=u1', ...site },
      })
      expect(sse.status).toBe(403)
    }
    expect(acks).toEqual([])
    expect(hub.stats().connections).toBe(0)
    // Same-origin resumes acknowledge cumulatively, as before.
    const poll = await fetch(`${server.url}?topics=a&transport=poll&timeout=0&lastEventId=${id}`, {
      headers: { cookie: 'session=u1', 'sec-fetch-site': 'same-origin' },
    })
    expect(poll.status).toBe(200)
    expect(acks).toEqual([{ userId: 'u1', ids: [id], cumulative: true, verified: true }])
  })

  test('ids the identity was not allowed to receive never reach onAck; ids the log no longer holds are unverified', async () => {
    const { hub, acks, post } = await setup(kind, { log: memoryLog({ capacity: 4 }) })
    const evicted = await hub.publish({ type: 'm', topic: 'a', data: 0 })
    for (let i = 0; i < 4; i++) await hub.publish({ type: 'm', topic: 'filler', data: i })
    const mine = await hub.publish({ type: 'm', topic: 'a', data: 1, to: ['u1'] })
    const broadcast = await hub.publish({ type: 'm', topic: 'a', data: 2 })
    const others = await hub.publish({ type: 'm', topic: 'a', data: 3, to: ['u2'] })
    const secret = await hub.publish({ type: 'm', topic: 'secret', data: 4 })
    const res = await post(JSON.stringify({ ack: [mine, others, secret, broadcast, evicted, 'made-up-7'] }))
    expect(res.status).toBe(204)
    expect(acks).toEqual([
      { userId: 'u1', ids: [mine, broadcast], cumulative: false, verified: true },
      { userId: 'u1', ids: [evicted, 'made-up-7'], cumulative: false, verified: false },
    ])
    // Nothing at all for an ack of only others' ids, and the same 204: no oracle for ids.
    const none = await post(JSON.stringify({ ack: [others, secret] }))
    expect(none.status).toBe(204)
    expect(acks).toHaveLength(2)
  })
})

describe.each(ADAPTERS)('origins through the %s adapter', (kind) => {
  test('without origins: preflights are refused and no CORS header is sent', async () => {
    const { server } = await setup(kind)
    const preflight = await fetch(server.url, {
      method: 'OPTIONS',
      headers: { origin: APP, 'access-control-request-method': 'POST' },
    })
    expect(preflight.status).toBe(403)
    expect(preflight.headers.get('access-control-allow-origin')).toBe(null)
    // Without credentials a cross-origin GET is not refused (authentication answers), and
    // gets no CORS header, so a page of that origin cannot read it.
    const poll = await fetch(`${server.url}?topics=a&transport=poll&timeout=0`, { headers: { origin: APP } })
    expect(poll.status).toBe(401)
    expect(poll.headers.get('access-control-allow-origin')).toBe(null)
  })

  test.each([
    ['a list', [APP]],
    ['a function', (origin: string) => origin === APP],
  ] as const)('origins as %s: preflight, CORS on SSE, long-poll and acks; others refused', async (_, origins) => {
    const { hub, acks, server, post } = await setup(kind, { origins })
    const id = await hub.publish({ type: 'm', topic: 'a', data: 1 })
    const preflight = await fetch(server.url, {
      method: 'OPTIONS',
      headers: {
        origin: APP,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, x-token',
      },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe(APP)
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true')
    expect(preflight.headers.get('access-control-allow-methods')).toMatch(/GET.*POST/)
    expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type, x-token')
    expect(preflight.headers.get('vary')).toMatch(/origin/i)

    const refused = await fetch(server.url, {
      method: 'OPTIONS',
      headers: { origin: EVIL, 'access-control-request-method': 'POST' },
    })
    expect(refused.status).toBe(403)
    expect(refused.headers.get('access-control-allow-origin')).toBe(null)

    const cross = { cookie: 'session=u1', origin: APP, 'sec-fetch-site': 'cross-site' }
    const sse = await openSse(`${server.url}?topics=a`, { headers: cross })
    cleanups.push(() => sse.close())
    expect(sse.status).toBe(200)
    expect(sse.headers.get('access-control-allow-origin')).toBe(APP)
    expect(sse.headers.get('access-control-allow-credentials')).toBe('true')

    const poll = await fetch(`${server.url}?topics=a&transport=poll&timeout=0&lastEventId=${id}`, { headers: cross })
    expect(poll.status).toBe(200)
    expect(poll.headers.get('access-control-allow-origin')).toBe(APP)

    const ack = await post(JSON.stringify({ ack: [id] }), cross)
    expect(ack.status).toBe(204)
    expect(ack.headers.get('access-control-allow-origin')).toBe(APP)
    // Errors carry the headers too, so the page can read why.
    const unauthenticated = await post(JSON.stringify({ ack: [id] }), { ...cross, cookie: '' })
    expect(unauthenticated.status).toBe(401)
    expect(unauthenticated.headers.get('access-control-allow-origin')).toBe(APP)

    const evil = await post(JSON.stringify({ ack: [id] }), { ...cross, origin: EVIL })
    expect(evil.status).toBe(403)
    expect(evil.headers.get('access-control-allow-origin')).toBe(null)
    const evilPoll = await fetch(`${server.url}?topics=a&transport=poll&timeout=0&lastEventId=${id}`, {
      headers: { ...cross, origin: EVIL },
    })
    expect(evilPoll.status).toBe(403)
    expect(acks.map((a) => a.cumulative)).toEqual([true, false])
  })

  test('origins must be exact origins', () => {
    for (const origins of [['https://app.example/'], ['*'], ['app.example'], ['https://app.example/path']]) {
      expect(() => createHub({ origins }), JSON.stringify(origins)).toThrow(
        expect.objectContaining({ code: 'invalid_option' }),
      )
    }
  })
})
