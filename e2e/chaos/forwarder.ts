/**
 * A TCP forwarder on a port that outlives the hub process behind it: clients keep one URL
 * per node while the node is killed and restarted on a new port, and the run cuts their
 * sockets at will.
 */
import { once } from 'node:events'
import { type AddressInfo, connect, createServer, type Socket } from 'node:net'

export interface Forwarder {
  readonly origin: string
  /** Where new connections go; `undefined` refuses them (the node is down). */
  upstream: number | undefined
  /** Destroys every open connection; returns how many. */
  cut(): number
  close(): Promise<void>
}

export async function startForwarder(): Promise<Forwarder> {
  const pairs = new Set<Socket>()
  const server = createServer((client) => {
    const port = forwarder.upstream
    if (port === undefined) return void client.destroy()
    const upstream = connect(port, '127.0.0.1')
    const end = () => {
      client.destroy()
      upstream.destroy()
      pairs.delete(client)
    }
    pairs.add(client)
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const forwarder: Forwarder = {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    upstream: undefined,
    cut() {
      const count = pairs.size
      for (const socket of pairs) socket.destroy()
      return count
    },
    async close() {
      forwarder.cut()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  return forwarder
}
