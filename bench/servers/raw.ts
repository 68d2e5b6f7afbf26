/** The per-write ceiling on Node: one pre-encoded buffer written to every socket per event. */
import { createServer, type ServerResponse } from 'node:http'
import { type BenchPayload, listenOnLoopback, runServer } from './harness.js'

const clients = new Set<ServerResponse>()
const byUser = new Map<string, ServerResponse>()
let id = 0
const encode = (payload: BenchPayload) => Buffer.from(`id: ${++id}\nevent: tick\ndata: ${JSON.stringify(payload)}\n\n`)

const server = createServer((req, res) => {
  const user = new URL(req.url ?? '/', 'http://x').searchParams.get('u') ?? ''
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  res.write(': ok\n\n')
  clients.add(res)
  byUser.set(user, res)
  res.on('close', () => {
    clients.delete(res)
    byUser.delete(user)
  })
})

await runServer({
  path: '/events?u=',
  listen: () => listenOnLoopback(server),
  broadcast: (payload) => {
    const bytes = encode(payload)
    for (const res of clients) res.write(bytes)
  },
  target: (to, payload) => {
    const bytes = encode(payload)
    for (const user of to) byUser.get(user)?.write(bytes)
  },
})
