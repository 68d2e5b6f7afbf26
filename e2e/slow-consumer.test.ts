/**
 * A consumer that stops reading is dropped once its send buffer passes `maxBufferedBytes`,
 * while other clients keep receiving everything and the server's memory stays bounded; it
 * then resumes from the log with its Last-Event-ID, without loss.
 */
import { once } from 'node:events'
import type { ServerResponse } from 'node:http'
import { connect, type Socket } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { createHub, type Hub, memoryLog } from '@rt/server'
import { createParser } from 'eventsource-parser'
import { afterEach, describe, expect, test } from 'vitest'
import { ADAPTERS, type Running, serveHub } from './support/servers.js'

// A full collection before each reading, so the numbers are live memory, not garbage.
setFlagsFromString('--expose-gc')
const collect = runInNewContext('gc') as () => void

const MAX_BUFFERED = 256 * 1024
const EVENT_BYTES = 16 * 1024
/** One batch per tick stays well under the cap, so a client that keeps reading is never dropped. */
const BATCH = 8
const pad = 'x'.repeat(EVENT_BYTES - 100)

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function serve(kind: (typeof ADAPTERS)[number], capacity: number) {
  const hub = createHub({ log: memoryLog({ capacity }), maxBufferedBytes: MAX_BUFFERED })
  const server = await serveHub(hub, kind)
  cleanups.push(
    () => hub.close(),
    () => server.close(),
  )
  return { hub, server }
}

/**
 * A client that keeps reading and remembers only event ids, so the test
 * process holds no payloads of its own.
 */
async function reader(url: string, lastEventId?: string) {
  const controller = new AbortController()
  cleanups.push(() => controller.abort())
  const headers: Record<string, string> = lastEventId === undefined ? {} : { 'last-event-id': lastEventId }
  const res = await fetch(url, { headers, signal: controller.signal })
  expect(res.status).toBe(200)
  const ids: string[] = []
  const controls: string[] = []
  let wake = () => {}
  const parser = createParser({
    onEvent(event) {
      if (event.event?.startsWith('rt.')) controls.push(event.event)
      // A copy: a substring could keep the whole received chunk alive, skewing the memory reading.
      else if (event.id !== undefined) ids.push(Buffer.from(event.id).toString())
      wake()
    },
  })
  const done = (async () => {
    const decoder = new TextDecoder()
    try {
      for await (const chunk of res.body as ReadableStream<Uint8Array>)
        parser.feed(decoder.decode(chunk, { stream: true }))
    } catch {
      // aborted at cleanup
    }
  })()
  return {
    ids,
    controls,
    done,
    async until(count: number) {
      while (ids.length < count) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`stuck at ${ids.length} of ${count} events`)), 10_000)
          wake = () => {
            clearTimeout(timer)
            resolve()
          }
        })
      }
    },
  }
}

/** A consumer that sends its request and never reads: a raw socket, paused. */
async function stalled(running: Running, query: string) {
  const port = Number(new URL(running.origin).port)
  const socket: Socket = connect(port, '127.0.0.1')
  cleanups.push(() => socket.destroy())
  socket.pause()
  await once(socket, 'connect')
  // HTTP/1.0 so the body comes unchunked and ends when the server closes the socket.
  socket.write(`GET /events${query} HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nX-Stalled: 1\r\n\r\n`)
  return socket
}

/** Reads everything the paused socket holds, then parses its SSE body. */
async function drain(socket: Socket) {
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  socket.resume()
  await once(socket, 'close')
  const raw = Buffer.concat(chunks).toString('utf8')
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4)
  const events: { id?: string | undefined; event?: string | undefined; data: string }[] = []
  createParser({ onEvent: (event) => events.push(event) }).feed(body)
  return { head: raw.slice(0, raw.indexOf('\r\n')), events }
}

/** Polls hub state, which has no event of its own, until `count` streams are open. */
async function streamsOpen(hub: Hub, count: number): Promise<void> {
  const deadline = Date.now() + 5_000
  while (hub.stats().connections < count) {
    if (Date.now() > deadline) throw new Error(`only ${hub.stats().connections} of ${count} streams opened`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/**
 * Publishes one batch of events in one tick and waits until the reading client has them
 * all, so only a consumer that does not read can fall behind.
 */
async function publishBatch(hub: Hub, published: string[], fast: { until(count: number): Promise<void> }) {
  const batch = Array.from({ length: BATCH }, (_, i) =>
    hub.publish({ type: 'm', topic: 'a', data: { n: published.length + i, pad } }),
  )
  published.push(...(await Promise.all(batch)))
  await fast.until(published.length)
}

const liveBytes = () => {
  // Twice: array buffers are released by the collection after the one that finds them dead.
  collect()
  collect()
  const { heapUsed, arrayBuffers } = process.memoryUsage()
  return heapUsed + arrayBuffers
}

describe.each(ADAPTERS)('%s adapter', (kind) => {
  test('a stalled consumer is dropped, others get everything, and memory stays bounded', async () => {
    const TOTAL = 20 * 1024 * 1024
    const CAPACITY = 16
    const { hub, server } = await serve(kind, CAPACITY)

    // The node-level response of the stalled consumer, to read its send buffer directly.
    let stalledRes: ServerResponse | undefined
    server.server.on('request', (req, res: ServerResponse) => {
      if (req.headers['x-stalled'] !== undefined) stalledRes = res
    })

    const fast = await reader(`${server.url}?topics=a`)
    const slow = await stalled(server, '?topics=a')
    await streamsOpen(hub, 2)

    const before = liveBytes()
    let peak = 0
    let peakSendBuffer = 0
    const published: string[] = []
    for (let sent = 0; sent < TOTAL; sent += BATCH * EVENT_BYTES) {
      await publishBatch(hub, published, fast)
      peakSendBuffer = Math.max(peakSendBuffer, stalledRes?.writableLength ?? 0)
      if (published.length % (BATCH * 16) === 0) peak = Math.max(peak, liveBytes() - before)
    }
    peak = Math.max(peak, liveBytes() - before)

    expect(fast.ids).toEqual(published)
    expect(fast.controls).toEqual(['rt.connected'])
    expect(hub.stats()).toMatchObject({ dropped: 1, connections: 1, topics: { a: 1 } })
    // The cap is checked after each coalesced write: at most one tick's batch over it. (Behind
    // the fetch adapter the backlog waits in the body stream, whose queue the hub caps alike.)
    expect(peakSendBuffer).toBeLessThanOrEqual(MAX_BUFFERED + BATCH * EVENT_BYTES)
    // What the server may hold: the capped send buffers, the log's ring of encoded events,
    // one batch in flight, and slack for the runtime. Without the cap, the stalled
    // consumer alone would hold most of the 20 MB published.
    const bound = 4 * MAX_BUFFERED + 3 * CAPACITY * EVENT_BYTES + 4 * 1024 * 1024
    expect(peak).toBeLessThan(bound)
    slow.destroy()
  })

  test('the dropped consumer resumes from its Last-Event-ID without loss', async () => {
    const { hub, server } = await serve(kind, 100_000)
    const fast = await reader(`${server.url}?topics=a`)
    const slow = await stalled(server, '?topics=a')
    await streamsOpen(hub, 2)

    // Publish until the stalled consumer is dropped (kernel buffers absorb a few MB first).
    const published: string[] = []
    while (hub.stats().dropped === 0) {
      if (published.length * EVENT_BYTES > 64 * 1024 * 1024) throw new Error('the stalled consumer was never dropped')
      await publishBatch(hub, published, fast)
    }
    // A little more after the drop, which only the log has for the dropped consumer.
    for (let i = 0; i < 4; i++) await publishBatch(hub, published, fast)
    expect(fast.ids).toEqual(published)

    const got = await drain(slow)
    expect(got.head).toMatch(/^HTTP\/1\.[01] 200/)
    const ids = got.events.filter((e) => e.event === 'm').map((e) => e.id)
    expect(ids.length).toBeGreaterThan(0)
    expect(ids.length).toBeLessThan(published.length)
    // What it did get is a prefix of the log, in order.
    expect(ids).toEqual(published.slice(0, ids.length))
    const lastId = ids.at(-1) as string

    const resumed = await reader(`${server.url}?topics=a`, lastId)
    await resumed.until(published.length - ids.length)
    expect(resumed.controls).toEqual(['rt.connected'])
    expect([...ids, ...resumed.ids]).toEqual(published)
    expect(hub.stats().dropped).toBe(1)
  })
})
