/**
 * The coalescing ceiling on Node: like `raw`, but the bytes bound for one socket within a
 * tick go out in one write (one pre-encoded buffer per event, concatenated per socket per
 * tick), and nothing else. What rt does on the hot path, without rt.
 */
import { createServer, type ServerResponse } from 'node:http'
import { type BenchPayload, listenOnLoopback, runServer } from './harness.js'

const clients = new Set<ServerResponse>()
const byUser = new Map<string, ServerResponse>()
const pending = new Map<ServerResponse, Buffer[]>()
let scheduled = false
let id = 0
const encode = (payload: BenchPayload) => Buffer.from(`id: ${++id}\nevent: tick\ndata: ${JSON.stringify(payload)}\n\n`)

function flush(): void {
  scheduled = false
  for (const [res, chunks] of pending) res.write(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks))
  pending.clear()
}

function queue(res: ServerResponse, bytes: Buffer): void {
  const chunks = pending.get(res)
  if (chunks === undefined) pending.set(res, [bytes])
  else chunks.push(bytes)
  if (!scheduled) {
    scheduled = true
    setImmediate(flush)
  }
}

const server = createServer((req, res) => {
  const user = new URL(req.url ?? '/', 'http://x').searchParams.get('u') ?? ''
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  res.write(': ok\n\n')
  clients.add(res)
  byUser.set(user, res)
  res.on('close', () => {
    clients.delete(res)
    byUser.delete(user)
    pending.delete(res)
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
