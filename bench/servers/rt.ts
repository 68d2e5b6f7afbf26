/** rt: the hub behind `toNodeHandler`, as an app would mount it. */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHub, memoryLog } from '@rt/server'
import { toNodeHandler } from '@rt/server/node'
import { BACKLOG, runServer } from './harness.js'

const hub = createHub<Record<string, unknown>, { userId: string }>({
  log: memoryLog({ capacity: 200_000 }),
  authenticate: (req) => ({ userId: req.url.searchParams.get('u') ?? 'anonymous' }),
  maxConnections: 1_000_000,
})
const server = createServer(toNodeHandler(hub))

await runServer({
  path: '/events?topics=all&u=',
  listen: () =>
    new Promise((resolve) =>
      server.listen(0, '127.0.0.1', BACKLOG, () => resolve((server.address() as AddressInfo).port)),
    ),
  broadcast: (payload) => {
    void hub.publish({ type: 'tick', topic: 'all', data: payload })
  },
  target: (to, payload) => {
    void hub.publish({ type: 'tick', topic: 'all', to, data: payload })
  },
})
