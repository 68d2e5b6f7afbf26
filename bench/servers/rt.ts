/** rt: the hub behind `toNodeHandler`, as an app would mount it. */
import { createServer } from 'node:http'
import { createHub, memoryLog } from '@rt/server'
import { toNodeHandler } from '@rt/server/node'
import { listenOnLoopback, runServer } from './harness.js'

const hub = createHub<Record<string, unknown>, { userId: string }>({
  log: memoryLog({ capacity: 200_000 }),
  authenticate: (req) => ({ userId: req.url.searchParams.get('u') ?? 'anonymous' }),
  maxConnections: 1_000_000,
  // The idle-scale run beats every second, to measure the heartbeat's cost per beat.
  heartbeatMs: Number(process.env.BENCH_HEARTBEAT_MS ?? 15_000),
})
const server = createServer(toNodeHandler(hub))

await runServer({
  path: '/events?topics=all&u=',
  listen: () => listenOnLoopback(server),
  broadcast: (payload) => {
    void hub.publish({ type: 'tick', topic: 'all', data: payload })
  },
  target: (to, payload) => {
    void hub.publish({ type: 'tick', topic: 'all', to, data: payload })
  },
})
