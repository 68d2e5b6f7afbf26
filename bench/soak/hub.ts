/**
 * The hub of the soak run, in its own process so that its memory is measured apart from
 * the clients': a memoryLog hub (capacity: the first argument) behind the node adapter, driven over IPC (`listen`,
 * `publish`, `sample`).
 */
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHub, memoryLog } from '@rt/server'
import { toNodeHandler } from '@rt/server/node'
import { serve } from '../lib/ipc.js'

const hub = createHub<Record<string, unknown>>({
  log: memoryLog({ capacity: Number(process.argv[2] ?? 10_000) }),
  heartbeatMs: 5_000,
  maxConnections: 20_000,
})
const handler = toNodeHandler(hub)
const server = createServer((req, res) => void handler(req, res))
server.keepAliveTimeout = 60_000

let n = 0
serve({
  async listen() {
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
  },
  async publish(message) {
    const topics = message.topics as number
    for (let i = 0; i < (message.count as number); i++) {
      await hub.publish({ type: 'tick', topic: `t${n % topics}`, data: { n, pad: 'x'.repeat(200) } })
      n++
    }
    return { published: n }
  },
  sample() {
    // Live memory, not garbage waiting for a collection (run with --expose-gc).
    ;(globalThis as { gc?: () => void }).gc?.()
    const memory = process.memoryUsage()
    const stats = hub.stats()
    return {
      sampled: true,
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      connections: stats.connections,
      delivered: stats.delivered,
      dropped: stats.dropped,
    }
  },
})
