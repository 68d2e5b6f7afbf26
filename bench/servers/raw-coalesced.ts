/**
 * The coalescing ceiling on Node: like `raw`, but the bytes bound for one socket go out in
 * one write per flush (one pre-encoded buffer per event, concatenated per socket), and
 * nothing else. Flushes come on the next tick, or, within 4 ms of the previous flush, when
 * that window ends: the same rule as rt's writer (`coalesceMs`), without rt. Bytes go
 * straight to the socket, without chunked framing, as rt's node adapter writes them.
 */
import { createServer } from 'node:http'
import type { Socket } from 'node:net'
import { type BenchPayload, listenOnLoopback, runServer } from './harness.js'

const clients = new Set<Socket>()
const byUser = new Map<string, Socket>()
const pending = new Map<Socket, Buffer[]>()
let scheduled = false
let lastFlushAt = Number.NEGATIVE_INFINITY
const WINDOW_MS = 4
let id = 0
const encode = (payload: BenchPayload) => Buffer.from(`id: ${++id}\nevent: tick\ndata: ${JSON.stringify(payload)}\n\n`)

function flush(): void {
  scheduled = false
  for (const [socket, chunks] of pending)
    socket.write(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks))
  pending.clear()
  lastFlushAt = performance.now()
}

function queue(res: Socket, bytes: Buffer): void {
  const chunks = pending.get(res)
  if (chunks === undefined) pending.set(res, [bytes])
  else chunks.push(bytes)
  if (!scheduled) {
    scheduled = true
    const wait = WINDOW_MS - (performance.now() - lastFlushAt)
    if (wait <= 0) setImmediate(flush)
    else setTimeout(flush, wait)
  }
}

const server = createServer((req, res) => {
  const user = new URL(req.url ?? '/', 'http://x').searchParams.get('u') ?? ''
  res.useChunkedEncodingByDefault = false
  res.shouldKeepAlive = false
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  res.flushHeaders()
  const socket = res.socket as Socket
  socket.write(': ok\n\n')
  clients.add(socket)
  byUser.set(user, socket)
  res.on('close', () => {
    clients.delete(socket)
    byUser.delete(user)
    pending.delete(socket)
  })
})

await runServer({
  path: '/events?u=',
  listen: () => listenOnLoopback(server),
  broadcast: (payload) => {
    const bytes = encode(payload)
    for (const res of clients) queue(res, bytes)
  },
  target: (to, payload) => {
    const bytes = encode(payload)
    for (const user of to) {
      const res = byUser.get(user)
      if (res !== undefined) queue(res, bytes)
    }
  },
})
