/**
 * Test support: a real hub served over real HTTP on a loopback port, for the hook tests.
 */
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
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

/** Starts a hub behind `node:http` at `/events`. */
export async function serveHub<Events extends EventMap>(options: HubOptions = {}): Promise<ServedHub<Events>> {
  const hub = createHub<Events>({ heartbeatMs: 1_000, ...options })
  const handler = toNodeHandler(hub)
  const server = createServer(handler)
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
