/**
 * Test support: a real hub served over real HTTP on a loopback port, for the hook tests.
 */
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHub, type EventMap, type Hub, type HubOptions } from '@rt/server'
import { toNodeHandler } from '@rt/server/node'

export interface ServedHub<Events extends EventMap> {
  readonly hub: Hub<Events>
  /** The stream endpoint, `http://127.0.0.1:PORT/events`. */
  readonly url: string
  readonly server: Server
  close(): Promise<void>
}

/** Answers a request before the hub sees it; `false` passes it on. */
export type Route = (req: IncomingMessage, res: ServerResponse) => boolean

/** Starts a hub behind `node:http` at `/events`; `route` answers other requests (a snapshot endpoint). */
export async function serveHub<Events extends EventMap>(
  options: HubOptions = {},
  route: Route = () => false,
): Promise<ServedHub<Events>> {
  const hub = createHub<Events>({ heartbeatMs: 1_000, retryMs: 50, ...options })
  const handler = toNodeHandler(hub)
  const server = createServer((req, res) => {
    if (!route(req, res)) void handler(req, res)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`
  return {
    hub,
    url,
    server,
    async close() {
      await hub.close()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      await closed
    },
  }
}

/**
 * Puts the happy-dom page at the hub's origin, so the client's requests are same-origin
 * (happy-dom enforces CORS, and the hub answers no preflight).
 */
export function moveHappyDomTo(url: string): void {
  const window = globalThis as unknown as { happyDOM?: { setURL(url: string): void } }
  if (window.happyDOM === undefined) throw new Error('moveHappyDomTo: not in a happy-dom environment')
  window.happyDOM.setURL(new URL(url).origin)
}
