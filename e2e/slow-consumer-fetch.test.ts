/**
 * The fetch adapter's own backlog under a consumer that never reads: what the hub wrote into
 * the response body and the host (`@hono/node-server`) has not taken out yet. The cap must
 * hold it to `maxBufferedBytes` plus one write; a cap even twice as loose fails this test.
 */
import { once } from 'node:events'
import type { ServerResponse } from 'node:http'
import { connect, type Socket } from 'node:net'
import { createHub, type HubResponse, type RtRequest, type StreamSink } from '@rt/server'
import { afterEach, expect, test } from 'vitest'
import { serveHub } from './support/servers.js'

const MAX_BUFFERED = 256 * 1024
const EVENT_BYTES = 16 * 1024
const BATCH = 8
/** The hub hands a connection's queue to its transport once it passes 64 KiB. */
const LARGEST_WRITE = 64 * 1024 + EVENT_BYTES
const pad = 'x'.repeat(EVENT_BYTES - 100)

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

test('fetch adapter: a stalled consumer never holds more than maxBufferedBytes plus one write', async () => {
  const hub = createHub({ maxBufferedBytes: MAX_BUFFERED, heartbeatMs: 60_000 })
  /** Bytes the hub wrote into the stalled stream's body, and bytes the host took out of it. */
  const bytes = { written: 0, taken: 0, peak: 0 }
  const measure = () => {
    bytes.peak = Math.max(bytes.peak, bytes.written - bytes.taken)
  }
  // The hub as the adapter sees it, with the sink it is handed counted.
  const counted = {
    async handle(req: RtRequest): Promise<HubResponse> {
      const response = await hub.handle(req)
      if (response.kind !== 'stream' || req.headers.get('x-stalled') === null) return response
      return {
        ...response,
        open(sink: StreamSink) {
          const counting: StreamSink = {
            write(chunk) {
              bytes.written += chunk.byteLength
              sink.write(chunk)
              measure()
            },
            get bufferedBytes() {
              return sink.bufferedBytes
            },
            onDrain: (listener) => sink.onDrain(listener),
            end: () => sink.end(),
            abort: () => sink.abort(),
          }
          return response.open(counting)
        },
      }
    },
  }
  const server = await serveHub(counted, 'fetch')
  cleanups.push(
    () => hub.close(),
    () => server.close(),
  )
  // What the host takes out of the body it writes to the Node response.
  server.server.on('request', (req, res: ServerResponse) => {
    if (req.headers['x-stalled'] === undefined) return
    const write = res.write.bind(res) as (chunk: Uint8Array, ...rest: unknown[]) => boolean
    res.write = ((chunk: Uint8Array, ...rest: unknown[]) => {
      bytes.taken += chunk.byteLength
      return write(chunk, ...rest)
    }) as ServerResponse['write']
  })

  const socket: Socket = connect(Number(new URL(server.origin).port), '127.0.0.1')
  cleanups.push(() => socket.destroy())
  socket.pause()
  await once(socket, 'connect')
  socket.write('GET /events?topics=a HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Stalled: 1\r\n\r\n')
  await expect.poll(() => hub.stats().connections).toBe(1)

  let published = 0
  while (hub.stats().dropped === 0) {
    if (published * EVENT_BYTES > 64 * 1024 * 1024) throw new Error('the stalled consumer was never dropped')
    await Promise.all(
      Array.from({ length: BATCH }, () => hub.publish({ type: 'm', topic: 'a', data: { n: published++, pad } })),
    )
    for (let i = 0; i < 3; i++) await turn()
    measure()
  }
  // The backlog really built up in the adapter (the kernel and the host took the rest) ...
  expect(bytes.peak).toBeGreaterThan(MAX_BUFFERED)
  // ... and stopped at the cap plus the one write that crossed it.
  expect(bytes.peak).toBeLessThanOrEqual(MAX_BUFFERED + LARGEST_WRITE)
})
