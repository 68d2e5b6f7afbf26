/**
 * Fuzzing the request side (fast-check): arbitrary query strings, request targets, headers,
 * methods and ack bodies, sent over real HTTP to each adapter, are answered with a 2xx or a
 * 4xx, never a 5xx; and the parsers themselves, called directly, never throw.
 */
import { once } from 'node:events'
import { connect } from 'node:net'
import { createHub, type Hub } from '@rt/server'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { parseAck } from '../packages/server/src/core/acks.js'
import { parseSubscribe } from '../packages/server/src/core/request.js'
import { ADAPTERS, type Running, serveHub } from './support/servers.js'

const RUNS = 150
const LIMITS = { maxTopics: 20, maxQueryLength: 2_048 }

/** Text with the characters that matter to the parsers: separators, escapes, controls, astral. */
const nasty = fc.string({
  unit: fc.oneof(
    fc.constantFrom('&', '=', ',', '%', '?', '#', '+', ' ', '\u0000', '\r', '\n', '\t', '\u2028', '\uFEFF', '\uD83D'),
    fc.constantFrom('topics', 'types', 'transport', 'poll', 'sse', 'lastEventId', 'timeout', 'presence', '1', '-1'),
    fc.string({ maxLength: 3 }),
    fc.string({ unit: 'grapheme', maxLength: 1 }),
  ),
  maxLength: 60,
})

/** A header value fetch will send: visible ASCII and spaces, no CR, LF or NUL. */
const headerValue = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 80,
})

const request = fc.record({
  method: fc.constantFrom('GET', 'GET', 'POST', 'POST', 'OPTIONS', 'PUT', 'DELETE'),
  query: nasty,
  lastEventId: fc.option(headerValue, { nil: undefined }),
  // Mostly what gets a request past the checks before the parsers: JSON, no foreign origin, a user.
  contentType: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') },
    { weight: 1, arbitrary: fc.option(fc.oneof(fc.constant('text/plain'), headerValue), { nil: undefined }) },
  ),
  origin: fc.option(fc.oneof(fc.constantFrom('null', 'https://app.example'), headerValue), { nil: undefined, freq: 3 }),
  site: fc.option(fc.constantFrom('same-origin', 'same-site', 'cross-site', 'none'), { nil: undefined }),
  body: fc.oneof(
    nasty,
    fc.json({ maxDepth: 3 }),
    fc
      .array(fc.oneof(fc.string(), fc.integer(), fc.constant(null)), { maxLength: 5 })
      .map((ack) => JSON.stringify({ ack })),
  ),
  user: fc.oneof(
    { weight: 4, arbitrary: fc.constant('u1') },
    { weight: 1, arbitrary: fc.option(headerValue, { nil: undefined }) },
  ),
})

/** Percent-encodes what may not appear raw in a request target, leaving `%` and the rest as they are. */
function escapeTarget(text: string): string {
  let out = ''
  for (const byte of Buffer.from(text, 'utf8')) {
    out += byte > 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `%${byte.toString(16).padStart(2, '0')}`
  }
  return out
}

describe('parsers on arbitrary input', () => {
  test('parseSubscribe answers params or a 4xx error, never throws', () => {
    fc.assert(
      fc.property(nasty, fc.option(fc.string(), { nil: null }), (query, lastEventId) => {
        const url = new URL(`http://localhost/events?${query}`)
        const result = parseSubscribe(url, { get: (name) => (name === 'last-event-id' ? lastEventId : null) }, LIMITS)
        if (result instanceof Error) expect(result).toMatchObject({ status: 400, code: 'bad_request' })
        else expect(result.topics.length).toBeGreaterThan(0)
      }),
      { numRuns: 2_000 },
    )
  })

  test('parseAck answers ids or a 400 error, never throws', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          nasty,
          fc.json(),
          fc.jsonValue().map((ack) => JSON.stringify({ ack })),
        ),
        (body) => {
          const result = parseAck(body)
          if (result instanceof Error) expect(result).toMatchObject({ status: 400, code: 'bad_request' })
          else for (const id of result) expect(typeof id).toBe('string')
        },
      ),
      { numRuns: 2_000 },
    )
  })
})

describe.each(ADAPTERS)('arbitrary requests to the %s adapter', (kind) => {
  let hub: Hub
  let server: Running
  const errors: unknown[] = []
  beforeAll(async () => {
    hub = createHub({
      authenticate: (req) => {
        const user = req.headers.get('x-user')
        return user === null || user === '' ? null : { userId: user }
      },
      authorize: (_identity, topic) => !topic.startsWith('x'),
      origins: ['https://app.example'],
      ...LIMITS,
      pollTimeoutMs: 1,
      onError: (error) => errors.push(error),
    })
    hub.onAck(() => {})
    await hub.publish({ type: 'm', topic: 'a', data: 1 })
    server = await serveHub(hub, kind)
  })
  afterAll(async () => {
    await server.close()
    await hub.close()
  })

  test('methods, queries, headers and bodies: never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers: Record<string, string> = {}
        if (r.lastEventId !== undefined) headers['last-event-id'] = r.lastEventId
        if (r.contentType !== undefined) headers['content-type'] = r.contentType
        if (r.origin !== undefined) headers.origin = r.origin
        if (r.site !== undefined) headers['sec-fetch-site'] = r.site
        if (r.user !== undefined) headers['x-user'] = r.user
        const hasBody = r.method === 'POST' || r.method === 'PUT'
        const res = await fetch(`${server.url}?${r.query}`, {
          method: r.method,
          headers,
          body: hasBody ? r.body : undefined,
        })
        await res.body?.cancel()
        expect(res.status, JSON.stringify(r)).toBeLessThan(500)
      }),
      { numRuns: RUNS },
    )
    expect(errors).toEqual([])
    await expect.poll(() => hub.stats().connections).toBe(0)
  })

  test('raw request targets: never a 5xx', async () => {
    const port = Number(new URL(server.origin).port)
    const target = fc.oneof(
      nasty.map((q) => `/events?${escapeTarget(q)}`),
      fc.constantFrom('//host:99999/events?topics=a', 'http://[::1', '*', '/events?%', '/events?topics=%E0%A4%A'),
      fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
    )
    await fc.assert(
      fc.asyncProperty(target, async (path) => {
        const socket = connect(port, '127.0.0.1')
        await once(socket, 'connect')
        socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-User: u1\r\nConnection: close\r\n\r\n`)
        let head = ''
        for await (const chunk of socket) {
          head += (chunk as Buffer).toString('latin1')
          if (head.includes('\r\n')) break
        }
        socket.destroy()
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0)
        expect(status, path).toBeGreaterThanOrEqual(200)
        expect(status, path).toBeLessThan(500)
      }),
      { numRuns: RUNS },
    )
    expect(errors).toEqual([])
  })
})
