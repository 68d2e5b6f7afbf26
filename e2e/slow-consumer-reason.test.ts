/**
 * A dropped consumer is told why: `rt.closing` with reason `slow_consumer` follows its backlog
 * and the stream ends; one that never reads that far is torn down after a heartbeat interval.
 */
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { createHub } from '@rt/server'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { afterEach, describe, expect, test } from 'vitest'
import { ADAPTERS, type Running, serveHub } from './support/servers.js'

const running: Running[] = []
const sockets: Socket[] = []
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy()
  for (const r of running.splice(0)) await r.close()
})

const pad = 'x'.repeat(16 * 1024)

/** An HTTP/1.1 GET on a raw socket that reads nothing until told to. */
async function stalledClient(url: URL): Promise<Socket> {
  const socket = connect(Number(url.port), url.hostname)
  sockets.push(socket)
  await once(socket, 'connect')
  socket.pause()
  socket.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\n\r\n`)
  return socket
}

/**
 * Feeds an HTTP/1.1 response body to `onText`: after the head, either raw (the node adapter
 * sends streams unframed) or chunked (Hono's server frames them), decoded here.
 */
function httpBody(onText: (text: string) => void): (data: Buffer) => void {
  let buffer = Buffer.alloc(0)
  let chunked: boolean | undefined
  const decoder = new TextDecoder()
  return (data) => {
    buffer = Buffer.concat([buffer, data])
    if (chunked === undefined) {
      const split = buffer.indexOf('\r\n\r\n')
      if (split === -1) return
      chunked = /transfer-encoding:\s*chunked/i.test(buffer.subarray(0, split).toString('latin1'))
      buffer = buffer.subarray(split + 4)
    }
    if (!chunked) {
      onText(decoder.decode(buffer, { stream: true }))
      buffer = Buffer.alloc(0)
      return
    }
    for (;;) {
      const line = buffer.indexOf('\r\n')
      if (line === -1) return
      const size = Number.parseInt(buffer.subarray(0, line).toString('latin1'), 16)
      if (buffer.length < line + 2 + size + 2) return
      onText(decoder.decode(buffer.subarray(line + 2, line + 2 + size), { stream: true }))
      buffer = buffer.subarray(line + 2 + size + 2)
    }
  }
}

async function publishUntilDropped(hub: ReturnType<typeof createHub>): Promise<number> {
  let published = 0
  while (hub.stats().dropped === 0) {
    for (let i = 0; i < 8; i++) await hub.publish({ type: 'm', topic: 'a', data: { i: published++, pad } })
    await new Promise((resolve) => setImmediate(resolve))
    if (published > 20_000) throw new Error('never dropped')
  }
  return published
}

describe.each(ADAPTERS)('through the %s adapter', (kind) => {
  test('a slow consumer that reads on gets its backlog, then the reason, then the end', async () => {
    const hub = createHub({ maxBufferedBytes: 256 * 1024, heartbeatMs: 60_000 })
    const server = await serveHub(hub, kind)
    running.push(server)
    const socket = await stalledClient(new URL(`${server.url}?topics=a`))
    await expect.poll(() => hub.stats().connections).toBe(1)
    await publishUntilDropped(hub)

    const events: EventSourceMessage[] = []
    const parser = createParser({ onEvent: (event) => events.push(event) })
    const body = httpBody((text) => parser.feed(text))
    socket.on('data', body)
    const ended = once(socket, 'end')
    socket.resume()
    await ended
    const last = events.at(-1)
    expect(last?.event).toBe('rt.closing')
    expect(JSON.parse(last?.data ?? '{}')).toEqual({ reason: 'slow_consumer' })
    // What came before it is the stream's prefix, in order.
    const received = events
      .filter((e) => e.event === 'm')
      .map((e) => (JSON.parse(e.data) as { data: { i: number } }).data.i)
    expect(received.length).toBeGreaterThan(0)
    expect(received).toEqual([...Array(received.length).keys()])
    await hub.close()
  })

  test('a consumer that never reads is torn down one heartbeat interval after the drop', async () => {
    const hub = createHub({ maxBufferedBytes: 256 * 1024, heartbeatMs: 300 })
    const server = await serveHub(hub, kind)
    running.push(server)
    await stalledClient(new URL(`${server.url}?topics=a`))
    await expect.poll(() => hub.stats().connections).toBe(1)
    await publishUntilDropped(hub)
    expect(hub.stats()).toMatchObject({ connections: 0, dropped: 1 })
    // The server side of the socket goes away: ended at once, torn down after the grace.
    const open = () => new Promise<number>((resolve) => server.server.getConnections((_, count) => resolve(count)))
    await expect.poll(open, { timeout: 10_000 }).toBe(0)
    await hub.close()
  })
})
