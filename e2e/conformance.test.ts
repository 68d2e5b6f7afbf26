/**
 * Spec-compliant third-party parsers against real servers for every adapter: the
 * `eventsource` package (what Node apps use) and eventsource-parser reading raw bytes.
 * Whatever is published arrives exactly, nothing else arrives, and hostile input can
 * never add an SSE field.
 */
import type { IncomingMessage } from 'node:http'
import { connect } from 'node:net'
import { createHub, type Hub, isRtError } from '@rt/server'
import { EventSource } from 'eventsource'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import fc from 'fast-check'
import { afterEach, describe, expect, test } from 'vitest'
import { PAYLOAD_TYPES, PAYLOADS } from './support/payloads.js'
import { ADAPTERS, type Running, serveHub } from './support/servers.js'

const cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

/** Resolves waiters when a condition, re-checked on every notify, holds. */
function conditions() {
  const waiting = new Set<() => void>()
  return {
    notify(): void {
      for (const check of [...waiting]) check()
    },
    until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(check)
          reject(new Error(`timed out waiting for ${what}`))
        }, timeoutMs)
        const check = () => {
          if (!predicate()) return
          clearTimeout(timer)
          waiting.delete(check)
          resolve()
        }
        waiting.add(check)
        check()
      })
    },
  }
}

async function start(kind: (typeof ADAPTERS)[number], hubOptions: Parameters<typeof createHub>[0] = {}) {
  const hub = createHub({ retryMs: 50, ...hubOptions })
  const server = await serveHub(hub, kind)
  cleanup.push(
    () => server.close(),
    () => hub.close(),
  )
  return { hub, server }
}

interface Received {
  readonly type: string
  readonly data: string
  readonly lastEventId: string
}

/** A native-style EventSource (the `eventsource` package), recording what it dispatches. */
function listen(url: string, types: readonly string[]) {
  const es = new EventSource(url)
  cleanup.push(() => es.close())
  const state = { opens: 0, errors: 0, events: [] as Received[], control: [] as Received[] }
  const cond = conditions()
  const record = (into: Received[]) => (event: MessageEvent) => {
    into.push({ type: event.type, data: event.data as string, lastEventId: event.lastEventId })
    cond.notify()
  }
  for (const type of types) es.addEventListener(type, record(state.events))
  for (const type of ['rt.connected', 'rt.reset', 'rt.closing']) es.addEventListener(type, record(state.control))
  es.addEventListener('open', () => {
    state.opens++
    cond.notify()
  })
  es.addEventListener('error', () => {
    state.errors++
    cond.notify()
  })
  return { es, state, until: cond.until }
}

/** The `last-event-id` header of every stream request the server receives. */
function watchRequests(server: Running) {
  const seen: Array<string | undefined> = []
  const cond = conditions()
  const onRequest = (req: IncomingMessage) => {
    const value = req.headers['last-event-id']
    seen.push(Array.isArray(value) ? value.join(',') : value)
    cond.notify()
  }
  server.server.on('request', onRequest)
  cleanup.push(() => server.server.off('request', onRequest))
  return { seen, until: cond.until }
}

async function publishAll(hub: Hub, topic: string, payloads: typeof PAYLOADS): Promise<string[]> {
  const ids: string[] = []
  for (const { type, data } of payloads) ids.push(await hub.publish({ type, topic, data }))
  return ids
}

function expectExactly(
  received: readonly Received[],
  payloads: typeof PAYLOADS,
  ids: readonly string[],
  topic: string,
) {
  expect(received.map((e) => e.lastEventId)).toEqual(ids)
  received.forEach((event, i) => {
    const payload = payloads[i] as (typeof PAYLOADS)[number]
    expect(event.type, payload.name).toBe(payload.type)
    const envelope = JSON.parse(event.data) as { topic: string; ts: number; data: unknown }
    expect(Object.keys(envelope), payload.name).toEqual(['topic', 'ts', 'data'])
    expect(envelope.topic).toBe(topic)
    expect(envelope.data, payload.name).toEqual(payload.data)
    if (typeof payload.data === 'string') expect(envelope.data, payload.name).toBe(payload.data)
  })
}

describe.each(ADAPTERS)('eventsource package, %s adapter', (kind) => {
  test('receives every payload exactly as published, with its id, type and order', async () => {
    const { hub, server } = await start(kind)
    const client = listen(`${server.url}?topics=conf`, PAYLOAD_TYPES)
    await client.until(() => client.state.control.length === 1, 'rt.connected')
    expect(client.state.control[0]?.type).toBe('rt.connected')

    const ids = await publishAll(hub, 'conf', PAYLOADS)
    await client.until(() => client.state.events.length >= PAYLOADS.length, 'every payload')
    expectExactly(client.state.events, PAYLOADS, ids, 'conf')
    expect(client.state.errors).toBe(0)
    expect(client.es.readyState).toBe(EventSource.OPEN)
  })

  test('after the server drops the connection, it resumes with Last-Event-ID and gets the rest exactly once', async () => {
    const { hub, server } = await start(kind)
    const requests = watchRequests(server)
    const client = listen(`${server.url}?topics=conf`, PAYLOAD_TYPES)
    await client.until(() => client.state.control.length === 1, 'rt.connected')

    const split = 10
    const before = PAYLOADS.slice(0, split)
    const ids = await publishAll(hub, 'conf', before)
    await client.until(() => client.state.events.length === split, 'the first batch')

    // Published in the same tick as the drop: its bytes are still queued when the socket
    // dies, so only the resume can deliver it.
    ids.push(await hub.publish({ ...(PAYLOADS[split] as (typeof PAYLOADS)[number]), topic: 'conf' }))
    server.server.closeAllConnections()
    ids.push(...(await publishAll(hub, 'conf', PAYLOADS.slice(split + 1))))

    await client.until(() => client.state.events.length >= PAYLOADS.length, 'every payload after the resume')
    await requests.until(() => requests.seen.length === 2, 'the reconnect request')
    expect(requests.seen).toEqual([undefined, ids[split - 1]])
    expectExactly(client.state.events, PAYLOADS, ids, 'conf')
    expect(client.state.errors).toBeGreaterThanOrEqual(1)
    expect(client.state.opens).toBe(2)
    // The resumed stream announces itself without moving the client's position.
    const [fresh, resumed] = client.state.control
    expect(client.state.control.map((e) => e.type)).toEqual(['rt.connected', 'rt.connected'])
    expect(fresh?.lastEventId).not.toBe('')
    expect(ids).not.toContain(fresh?.lastEventId)
    // The resumed stream's rt.connected carries no id (this package then reports '').
    expect(resumed?.lastEventId).toBe('')
    await client.until(() => hub.stats().connections === 1, 'the dropped connection to be released')
  })
})

/** Raw bytes of a stream, parsed by eventsource-parser with every callback recorded. */
async function openWire(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController()
  cleanup.push(() => controller.abort())
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal })
  const wire = {
    status: res.status,
    text: '',
    events: [] as EventSourceMessage[],
    retries: [] as number[],
    comments: [] as string[],
    errors: [] as Error[],
  }
  const cond = conditions()
  const parser = createParser({
    onEvent: (event) => wire.events.push(event),
    onRetry: (ms) => wire.retries.push(ms),
    onComment: (comment) => wire.comments.push(comment),
    onError: (error) => wire.errors.push(error),
  })
  const body = res.body
  if (body !== null) {
    void (async () => {
      const decoder = new TextDecoder()
      try {
        for await (const chunk of body) {
          const text = decoder.decode(chunk, { stream: true })
          wire.text += text
          parser.feed(text)
          cond.notify()
        }
      } catch {
        // aborted at cleanup
      }
    })()
  }
  return { wire, until: cond.until }
}

/** Sends a hand-written request over a raw socket; resolves with everything read until `done` holds or the server closes. */
function rawRequest(origin: string, head: string, done: (text: string) => boolean): Promise<string> {
  const { hostname, port } = new URL(origin)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    let text = ''
    const finish = () => {
      socket.destroy()
      resolve(text)
    }
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1')
      if (done(text)) finish()
    })
    socket.on('close', finish)
    socket.on('error', reject)
    socket.write(head)
  })
}

const MALICIOUS_IDS = [
  'x\r\nevent: evil\r\ndata: pwned',
  'x\nid: evil\n\ndata: pwned',
  'x\revil',
  'x\u0000evil',
  'x\t-1',
]

describe.each(ADAPTERS)('injection over the wire, %s adapter', (kind) => {
  test('a lastEventId holding control characters is never echoed: the stream gets rt.reset malformed', async () => {
    const { hub, server } = await start(kind)
    await hub.publish({ type: 'm', topic: 'a', data: 1 })
    const head = await hub.publish({ type: 'm', topic: 'a', data: 2 })
    for (const id of MALICIOUS_IDS) {
      const { wire, until } = await openWire(`${server.url}?topics=a&lastEventId=${encodeURIComponent(id)}`)
      expect(wire.status).toBe(200)
      await until(() => wire.events.length === 2, `rt.reset for ${JSON.stringify(id)}`)
      expect(wire.events.map((e) => e.event)).toEqual(['rt.connected', 'rt.reset'])
      expect(wire.events[0]?.id).toBeUndefined()
      expect(wire.events[1]?.id).toBe(head)
      expect(JSON.parse(wire.events[1]?.data ?? '')).toEqual({ reason: 'malformed' })
      expect(wire.text).not.toMatch(/evil|pwned/)
      expect(wire.errors).toEqual([])
    }
  })

  test('a Last-Event-ID header with control characters never reaches the wire; the hub keeps serving', async () => {
    const { hub, server } = await start(kind)
    const request = (id: string) =>
      rawRequest(
        server.origin,
        `GET /events?topics=a HTTP/1.1\r\nHost: 127.0.0.1\r\nLast-Event-ID: ${id}\r\n\r\n`,
        (text) => /event: rt\.reset\n[^\n]*\n\n/.test(text),
      )
    // The HTTP parser refuses a bare CR, a bare LF, NUL and other controls in a header.
    for (const id of ['x\revil', 'x\nevent: evil', 'x\u0000evil', 'x\u0001evil']) {
      const response = await request(id)
      expect(response, JSON.stringify(id)).toMatch(/^HTTP\/1\.1 400 /)
      expect(response).not.toMatch(/evil/)
    }
    // CRLF ends the header: the id is "x" and the rest is another header. A tab is legal
    // in a header, but no log issues such an id. Both are malformed ids.
    for (const id of ['x\r\nevent: evil', 'x\t-1']) {
      const response = await request(id)
      expect(response, JSON.stringify(id)).toMatch(/^HTTP\/1\.1 200 /)
      expect(response).toMatch(/\nevent: rt\.reset\ndata: \{"reason":"malformed"\}\n\n/)
      expect(response).not.toMatch(/evil|\t/)
    }
    expect(hub.stats().published).toBe(0)
    const { wire, until } = await openWire(`${server.url}?topics=a`)
    await until(() => wire.events.length === 1, 'rt.connected')
    await hub.publish({ type: 'after', topic: 'a', data: 'still serving' })
    await until(() => wire.events.length === 2, 'an event after the refused requests')
    expect(wire.events[1]?.event).toBe('after')
  })

  test('property: arbitrary strings as data and arbitrary publishes never add a field', async () => {
    const { hub, server } = await start(kind, { heartbeatMs: 3_600_000 })
    const { wire, until } = await openWire(`${server.url}?topics=p`)
    await until(() => wire.events.length === 1, 'rt.connected')
    const data = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: 'binary-ascii', maxLength: 200 }),
      fc.jsonValue(),
    )
    const type = fc.oneof(fc.constant('m'), fc.string({ unit: 'binary', minLength: 1, maxLength: 16 }))
    let accepted = 0
    await fc.assert(
      fc.asyncProperty(type, data, async (type, data) => {
        const count = wire.events.length
        const offset = wire.text.length
        let id: string
        try {
          id = await hub.publish({ type, topic: 'p', data })
        } catch (error) {
          // Only an unsendable type may be refused; it must leave nothing on the wire.
          expect(isRtError(error) && error.code).toBe('invalid_type')
          const sentinel = await hub.publish({ type: 'sentinel', topic: 'p', data: null })
          await until(() => wire.events.length === count + 1, 'the sentinel')
          expect(wire.events.at(-1)?.id).toBe(sentinel)
          return
        }
        accepted++
        await until(() => wire.events.length === count + 1, 'the event')
        const event = wire.events.at(-1) as EventSourceMessage
        expect(event.id).toBe(id)
        expect(event.event).toBe(type)
        const envelope = JSON.parse(event.data) as Record<string, unknown>
        expect(Object.keys(envelope)).toEqual(['topic', 'ts', 'data'])
        expect(envelope.data).toEqual(JSON.parse(JSON.stringify(data)))
        if (typeof data === 'string') expect(envelope.data).toBe(data)
        const lines = wire.text.slice(offset).split(/\r\n|\r|\n/)
        expect(lines.map((line) => line.slice(0, line.indexOf(':') + 1))).toEqual(['id:', 'event:', 'data:', '', ''])
      }),
      { numRuns: 150 },
    )
    expect(accepted).toBeGreaterThan(50)
    expect(wire.retries).toEqual([50])
    expect(wire.comments).toEqual([])
    expect(wire.errors).toEqual([])
  })
})
