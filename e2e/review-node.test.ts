/**
 * Regression tests from a review of the Node adapter: request targets `new URL` rejects,
 * replay backpressure below the socket's high-water mark, and the socket-direct stream on
 * a reused keep-alive connection and behind a pipelined request.
 */
import { once } from 'node:events'
import type { Server } from 'node:http'
import { connect, type Socket } from 'node:net'
import { createHub, type HubOptions } from '@rt/server'
import { toNodeHandler } from '@rt/server/node'
import { createParser } from 'eventsource-parser'
import { afterEach, expect, test } from 'vitest'
import { type AdapterKind, serveHub, serveListener } from './support/servers.js'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function serve(options: HubOptions = {}, kind: AdapterKind = 'node') {
  const hub = createHub(options)
  const running = await serveHub(hub, kind)
  cleanups.push(
    () => hub.close(),
    () => running.close(),
  )
  return { hub, running, port: new URL(running.origin).port }
}

/** A raw client socket: the test decides what bytes go out and when the client reads. */
async function rawClient(port: string): Promise<{ socket: Socket; received: () => string }> {
  const socket = connect(Number(port), '127.0.0.1')
  cleanups.push(() => socket.destroy())
  await once(socket, 'connect')
  let text = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => {
    text += chunk
  })
  return { socket, received: () => text }
}

/** Polls a condition that has no event of its own (bytes arriving on a raw socket). */
async function eventually(condition: () => boolean, what: string | (() => string), ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** The server side of the first connection the server accepts from now on. */
function nextServerSocket(server: Server): Promise<Socket> {
  return once(server, 'connection').then(([socket]) => socket as Socket)
}

test('a request target that is not a valid URL is answered, not a crash of the process', async () => {
  const { port } = await serve()
  // llhttp accepts these targets; `new URL(target, base)` throws on each.
  for (const target of ['//x:99999/events?topics=a', 'http://[/events?topics=a']) {
    const { socket, received } = await rawClient(port)
    socket.write(`GET ${target} HTTP/1.1\r\nhost: x\r\n\r\n`)
    await eventually(() => received().includes('\r\n\r\n'), `an answer to ${target}`, 2_000)
    expect(received()).toMatch(/^HTTP\/1\.1 200 /)
    expect(received()).toContain('content-type: text/event-stream')
    socket.destroy()
  }
})

test.each([
  ['node, written straight to the socket', 'node', false],
  ['node, written through the response (pipelined, chunked)', 'node', true],
  ['fetch, through a ReadableStream', 'fetch', false],
] as const)(
  'a replay that fills the socket past half the cap resumes once the client reads again: %s',
  async (_, kind, pipelined) => {
    // Half the cap lies below the socket's high-water mark, where a write never asks for
    // 'drain': the replay must not wait for one.
    const { hub, running, port } = await serve({ maxBufferedBytes: 24_000 }, kind)
    const from = await hub.publish({ type: 'm', topic: 'a', data: 'start' })
    const pad = 'p'.repeat(3_000)
    const COUNT = 3_000
    for (let i = 1; i <= COUNT; i++) await hub.publish({ type: 'm', topic: 'a', data: { i, pad } })

    const accepted = nextServerSocket(running.server)
    const { socket } = await rawClient(port)
    const serverSide = await accepted
    socket.pause()
    // Behind a pipelined request the stream has no socket yet when it opens, so it writes
    // through the response; chunk framing lines are ignored by the SSE parser below.
    const before = pipelined ? 'GET /events?topics=a&transport=poll HTTP/1.1\r\nhost: x\r\n\r\n' : ''
    socket.write(`${before}GET /events?topics=a HTTP/1.1\r\nhost: x\r\nlast-event-id: ${from}\r\n\r\n`)
    // Not reading: the kernel buffers fill, then the server's own socket buffer.
    await eventually(
      () => serverSide.writableLength > 0,
      'the server socket to back up (a replay that stalled early never fills it)',
    )

    let count = 0
    let body = false
    let pending = ''
    const parser = createParser({
      onEvent(event) {
        if (event.event === 'm') count++
      },
    })
    socket.removeAllListeners('data')
    socket.on('data', (chunk: string) => {
      if (body) return parser.feed(chunk)
      // Skip the heads (and the poll answer) up to the stream's first field.
      pending += chunk
      const start = pending.indexOf('retry: ', pending.indexOf('text/event-stream'))
      if (!pending.includes('text/event-stream') || start === -1) return
      body = true
      parser.feed(pending.slice(start))
    })
    socket.resume()
    await eventually(
      () => count === COUNT,
      () => `all ${COUNT} replayed events (stuck at ${count})`,
    )
    expect(hub.stats()).toMatchObject({ connections: 1, dropped: 0 })
  },
)

/** Splits one HTTP/1.1 response off `text`: head, body (de-chunked) and what follows it. */
function nextResponse(text: string): { head: string; body: string; rest: string; complete: boolean } {
  const end = text.indexOf('\r\n\r\n')
  if (end === -1) throw new Error(`no response head in ${JSON.stringify(text.slice(0, 80))}`)
  const head = text.slice(0, end)
  let at = end + 4
  const length = /\r\ncontent-length: (\d+)/i.exec(head)
  if (length !== null) {
    const stop = at + Number(length[1])
    return { head, body: text.slice(at, stop), rest: text.slice(stop), complete: stop <= text.length }
  }
  if (!/\r\ntransfer-encoding: chunked/i.test(head)) return { head, body: text.slice(at), rest: '', complete: false }
  let body = ''
  for (;;) {
    const line = text.indexOf('\r\n', at)
    if (line === -1) return { head, body, rest: '', complete: false }
    const size = Number.parseInt(text.slice(at, line), 16)
    if (size === 0) return { head, body, rest: text.slice(line + 4), complete: true }
    body += text.slice(line + 2, line + 2 + size)
    at = line + 2 + size + 2
  }
}

test.each([
  ['after an answered request on a reused keep-alive connection', false],
  ['pipelined behind another request', true],
])('the stream is framed right %s', async (_, pipelined) => {
  const { hub, port } = await serve()
  const head = await hub.publish({ type: 'm', topic: 'a', data: 0 })
  const { socket, received } = await rawClient(port)
  const poll = `GET /events?topics=a&transport=poll&timeout=0&lastEventId=${head} HTTP/1.1\r\nhost: x\r\n\r\n`
  const stream = 'GET /events?topics=a HTTP/1.1\r\nhost: x\r\n\r\n'
  if (pipelined) socket.write(poll + stream)
  else {
    socket.write(poll)
    await eventually(() => received().includes('\r\n\r\n') && nextResponse(received()).complete, 'the poll answer')
    socket.write(stream)
  }
  await eventually(() => received().includes('event: rt.connected'), 'the stream to open')
  await hub.publish({ type: 'm', topic: 'a', data: 'live' })
  await eventually(() => received().includes('"data":"live"'), 'the live event')

  const first = nextResponse(received())
  expect(first.head).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
  expect(JSON.parse(first.body)).toMatchObject({ events: [], lastEventId: head, reset: false })
  await eventually(
    () => nextResponse(nextResponse(received()).rest).body.includes('"data":"live"}\n\n'),
    'the whole event',
  )
  const second = nextResponse(first.rest)
  expect(second.head).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
  expect(second.head).toContain('content-type: text/event-stream')
  // On a connection of its own the stream is written straight to the socket: unframed,
  // ended by closing the connection.
  if (!pipelined) expect(second.head).toMatch(/\r\nconnection: close(\r\n|$)/i)
  if (!pipelined) expect(second.head).not.toMatch(/transfer-encoding/i)
  expect(second.body).toMatch(/^retry: \d+\nid: [^\n]+\nevent: rt\.connected\ndata: \{[^\n]*\}\n\n/)
  const live = second.body.split('\n\n').find((block) => block.includes('"data":"live"'))
  expect(live).toMatch(/^id: [^\n]+\nevent: m\ndata: \{"topic":"a","ts":\d+,"data":"live"\}$/)
})

test('a head already sent by middleware: the handler answers the error path and frees the reservation', async () => {
  const hub = createHub()
  const handler = toNodeHandler(hub)
  const errors: unknown[] = []
  const server = await serveListener((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.write('middleware was here\n')
    void handler(req, res, (error) => {
      errors.push(error)
      res.end()
    })
  })
  try {
    const res = await fetch(`${server.url}?topics=a`)
    expect(await res.text()).toBe('middleware was here\n')
    expect(errors).toHaveLength(1)
    expect(hub.stats().connections).toBe(0)
  } finally {
    await server.close()
    await hub.close()
  }
})
