/**
 * An ack body is read only after `authenticate` accepted the request, and never past 64 KiB,
 * on every adapter: a client that announces a large body and sends only its start gets its
 * 401 or 413 at once, without the server waiting for (or buffering) the rest.
 */
import { once } from 'node:events'
import { connect } from 'node:net'
import { createHub } from '@rt/server'
import { afterEach, describe, expect, test } from 'vitest'
import { ADAPTERS, type Running, serveHub } from './support/servers.js'

const ANNOUNCED = 512 * 1024
const SENT = 80 * 1024

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Announces a body of `ANNOUNCED` bytes, sends `SENT` of them, and reads the status line. */
async function partialPost(server: Running, headers: Record<string, string>): Promise<string> {
  const socket = connect(Number(new URL(server.origin).port), '127.0.0.1')
  cleanups.push(() => socket.destroy())
  await once(socket, 'connect')
  const head = Object.entries({
    host: '127.0.0.1',
    'content-type': 'application/json',
    'content-length': String(ANNOUNCED),
    ...headers,
  })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')
  socket.write(`POST /events HTTP/1.1\r\n${head}\r\n`)
  socket.write(`{"ack":["${'x'.repeat(SENT)}`)
  // A server that waits for the rest of the body never answers: fail clearly instead.
  socket.setTimeout(5_000, () => socket.destroy(new Error('no answer: the server waits for the whole body')))
  let received = ''
  for await (const chunk of socket) {
    received += (chunk as Buffer).toString('latin1')
    if (received.includes('\r\n')) break
  }
  return received.slice(0, received.indexOf('\r\n'))
}

describe.each(ADAPTERS)('%s adapter', (kind) => {
  test('401 before any of the body is needed; 413 past 64 KiB without waiting for the rest', async () => {
    let authenticated = 0
    const hub = createHub({
      authenticate: (req) => {
        authenticated++
        return req.headers.get('x-user') === null ? null : { userId: req.headers.get('x-user') as string }
      },
    })
    const acks: unknown[] = []
    hub.onAck((_identity, ids) => {
      acks.push(ids)
    })
    const server = await serveHub(hub, kind)
    cleanups.push(
      () => hub.close(),
      () => server.close(),
    )
    expect(await partialPost(server, {})).toMatch(/^HTTP\/1\.1 401 /)
    expect(await partialPost(server, { 'x-user': 'u1' })).toMatch(/^HTTP\/1\.1 413 /)
    expect(authenticated).toBe(2)
    expect(acks).toEqual([])
  })
})
