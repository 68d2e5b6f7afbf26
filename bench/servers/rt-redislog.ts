/** rt on `redisLog` (the local redis-server): every event goes through a Redis stream and back. */
import { createServer } from 'node:http'
import { createHub } from '@rt/server'
import { toNodeHandler } from '@rt/server/node'
import { redisLog } from '@rt/server/redis'
import { listenOnLoopback, runServer } from './harness.js'
import { dropRedisKeys, REDIS_URL } from './redis-keys.js'

const stream = `rt-bench:${Math.random().toString(36).slice(2, 10)}`
const hub = createHub<Record<string, unknown>, { userId: string }>({
  log: await redisLog({ url: REDIS_URL, stream }, { maxLen: 200_000, maxPending: 100_000 }),
  authenticate: (req) => ({ userId: req.url.searchParams.get('u') ?? 'anonymous' }),
  maxConnections: 1_000_000,
})
const server = createServer(toNodeHandler(hub))

await runServer({
  path: '/events?topics=all&u=',
  listen: () => listenOnLoopback(server),
  broadcast: (payload) => {
    void hub.publish({ type: 'tick', topic: 'all', data: payload }).catch(() => {})
  },
  target: (to, payload) => {
    void hub.publish({ type: 'tick', topic: 'all', to, data: payload }).catch(() => {})
  },
  close: async () => {
    await hub.close()
    await dropRedisKeys(stream)
  },
})
