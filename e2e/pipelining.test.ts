/**
 * Pipelined HTTP/1.1 subscriptions: every stream a socket carried is released when that
 * socket goes away, even those still queued behind the first response (Node never emits
 * `close` on a queued `ServerResponse`), so a client cannot fill `maxConnections` with
 * phantoms that buffer events forever.
 */
import { once } from 'node:events'
import { connect } from 'node:net'
import { createHub } from '@rt/server'
import { afterEach, describe, expect, test } from 'vitest'
import { ADAPTERS, type Running, serveHub } from './support/servers.js'

const PIPELINED = 5
const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const request = (path: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`

/** Sends `count` pipelined requests on one socket; resolves once the first response began. */
async function pipeline(server: Running, path: string, count: number) {
  const socket = connect(Number(new URL(server.origin).port), '127.0.0.1')
  cleanups.push(() => socket.destroy())
  await once(socket, 'connect')
  socket.write(request(path).repeat(count))
  let received = ''
  await new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8')
      if (received.includes('rt.connected')) resolve()
    })
  })
  return socket
}

/** Polls hub state, which has no event of its own, until it holds. */
async function eventually(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe.each(ADAPTERS)('%s adapter', (kind) => {
  test('streams queued behind a pipelined one are released when the socket closes', async () => {
    const hub = createHub({ maxConnections: PIPELINED + 1 })
    const server = await serveHub(hub, kind)
    cleanups.push(
      () => hub.close(),
      () => server.close(),
    )
    const socket = await pipeline(server, '/events?topics=a', PIPELINED)
    // Every pipelined request was accepted by the hub: the first streams, the rest wait.
    await eventually(() => hub.stats().connections === PIPELINED, `${PIPELINED} reserved streams`)
    socket.destroy()
    await eventually(() => hub.stats().connections === 0, 'every stream of the closed socket to be released')
    expect(hub.stats()).toMatchObject({ connections: 0, topics: {} })

    // The cap is free again: a new client gets a stream, not 503.
    const again = await pipeline(server, '/events?topics=a', 1)
    await eventually(() => hub.stats().connections === 1, 'a fresh stream')
    again.destroy()
    await eventually(() => hub.stats().connections === 0, 'the fresh stream to be released')
  })
})
