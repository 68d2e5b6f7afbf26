/**
 * A real HTTP proxy on loopback that can misbehave the ways proxies in the field do:
 * buffer whole responses, or keep a stream's socket open while forwarding nothing.
 */
import { once } from 'node:events'
import { Agent, type ClientRequest, createServer, request, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

export interface TestProxy {
  /** Base URL of the proxy, e.g. http://127.0.0.1:PORT */
  readonly origin: string
  /**
   * When true, new requests get their response only once the upstream response has ended
   * (headers included), as a buffering proxy or antivirus does; a stream never arrives.
   * @default false
   */
  buffering: boolean
  /** Requests received so far. */
  readonly requests: number
  /** Path and query of every request received, in order. */
  readonly paths: readonly string[]
  /** Stops forwarding bytes on every open response while keeping its socket open. Returns how many. */
  stall(): number
  /** Destroys every open client socket. Returns how many. */
  drop(): number
  close(): Promise<void>
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'content-length']

function forwardable(headers: Record<string, string | string[] | undefined>) {
  const out = { ...headers }
  for (const name of HOP_BY_HOP) delete out[name]
  return out
}

/** Starts a proxy on 127.0.0.1 that forwards every request to `target` (an origin). */
export async function startProxy(target: string): Promise<TestProxy> {
  const agent = new Agent({ keepAlive: false })
  const sockets = new Set<Socket>()
  const open = new Map<ServerResponse, { stalled: boolean; upstream: ClientRequest }>()
  let requests = 0
  const paths: string[] = []
  const server = createServer((req, res) => {
    requests++
    paths.push(req.url ?? '/')
    const buffering = proxy.buffering
    const upstream = request(
      `${target}${req.url ?? '/'}`,
      { method: req.method, headers: req.headers, agent },
      (up) => {
        const entry = open.get(res)
        if (buffering) {
          const chunks: Buffer[] = []
          up.on('data', (chunk: Buffer) => chunks.push(chunk))
          up.on('end', () => {
            const body = Buffer.concat(chunks)
            res.writeHead(up.statusCode ?? 502, { ...forwardable(up.headers), 'content-length': body.length })
            res.end(body)
          })
          return
        }
        res.writeHead(up.statusCode ?? 502, forwardable(up.headers))
        res.flushHeaders()
        up.on('data', (chunk: Buffer) => {
          if (entry?.stalled !== true) res.write(chunk)
        })
        up.on('end', () => {
          if (entry?.stalled !== true) res.end()
        })
      },
    )
    open.set(res, { stalled: false, upstream })
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
    res.on('close', () => {
      open.delete(res)
      upstream.destroy()
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const proxy: TestProxy = {
    origin,
    buffering: false,
    get requests() {
      return requests
    },
    paths,
    stall() {
      for (const entry of open.values()) entry.stalled = true
      return open.size
    },
    drop() {
      const count = sockets.size
      for (const socket of sockets) socket.destroy()
      return count
    },
    async close() {
      for (const entry of open.values()) entry.upstream.destroy()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      await closed
      agent.destroy()
    },
  }
  return proxy
}

/** Tracks a server's sockets so a test can destroy them from the server side. */
export function trackSockets(server: { on(event: 'connection', listener: (socket: Socket) => void): unknown }) {
  const sockets = new Set<Socket>()
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  return {
    /** Sockets open and not destroyed yet. */
    get size() {
      let count = 0
      for (const socket of sockets) if (!socket.destroyed) count++
      return count
    },
    /** Destroys every open socket; returns how many. */
    destroyAll(): number {
      const count = sockets.size
      for (const socket of sockets) socket.destroy()
      return count
    },
  }
}
