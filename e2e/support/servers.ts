/**
 * Real HTTP servers on loopback for each adapter, with a close that leaves nothing behind.
 */
import { once } from 'node:events'
import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { Hub } from '@rt/server'
import { fastifyRealtime } from '@rt/server/fastify'
import { toFetchHandler } from '@rt/server/fetch'
import { toNodeHandler } from '@rt/server/node'
import Fastify from 'fastify'

export type AdapterKind = 'node' | 'fetch' | 'fastify'
export const ADAPTERS: readonly AdapterKind[] = ['node', 'fetch', 'fastify']

export interface Running {
  /** Base URL, e.g. http://127.0.0.1:PORT */
  readonly origin: string
  /** URL of the stream endpoint. */
  readonly url: string
  readonly server: Server
  close(): Promise<void>
}

async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  server.closeAllConnections()
  await closed
}

export async function serveListener(listener: RequestListener, path = '/events'): Promise<Running> {
  const server = createServer(listener)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { origin, url: origin + path, server, close: () => closeServer(server) }
}

/** Serves `hub` at `/events` through the given adapter. */
export async function serveHub(hub: Pick<Hub, 'handle'>, kind: AdapterKind = 'node'): Promise<Running> {
  if (kind === 'node') return serveListener(toNodeHandler(hub))
  if (kind === 'fetch') {
    const handler = toFetchHandler(hub)
    const server = serve({ fetch: handler, port: 0, hostname: '127.0.0.1' }) as Server
    await once(server, 'listening')
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    return { origin, url: `${origin}/events`, server, close: () => closeServer(server) }
  }
  const app = Fastify()
  await app.register(fastifyRealtime, { hub, path: '/events' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  return {
    origin,
    url: `${origin}/events`,
    server: app.server,
    close: async () => {
      app.server.closeAllConnections()
      await app.close()
    },
  }
}
