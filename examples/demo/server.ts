/**
 * The smallest rt app: one hub on the embedded in-memory log (no database, no Redis), a
 * ticker publishing an event every second, and one page that shows them with the
 * browser's own `EventSource`.
 *
 *   npm run demo            # http://localhost:3000, or a free port if 3000 is taken
 *   PORT=8080 npm run demo
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHub } from '@rt/server'
import { healthHandler, toNodeHandler } from '@rt/server/node'
import { page } from './page.js'

type Events = { tick: { n: number; time: string } }

const hub = createHub<Events>()
const events = toNodeHandler(hub)
const health = healthHandler(hub)
const html = page()

const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname
  if (path === '/events') return void events(req, res)
  if (path === '/healthz') return health(req, res)
  if (path === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
    return void res.end(req.method === 'HEAD' ? undefined : html)
  }
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n')
})

/** Listens on `port`, or on a free port when that one is taken. */
function listen(server: Server, port: number, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EADDRINUSE' || port === 0) return reject(error)
      console.log(`port ${port} is taken, using a free one`)
      server.listen(0, host)
    }
    server.on('error', onError)
    server.once('listening', () => {
      server.off('error', onError)
      resolve((server.address() as AddressInfo).port)
    })
    server.listen(port, host)
  })
}

const port = await listen(server, Number(process.env.PORT ?? 3000), process.env.HOST)

let n = 0
const ticker = setInterval(() => {
  n += 1
  hub.publish({ type: 'tick', topic: 'ticker', data: { n, time: new Date().toISOString() } }).catch((error) => {
    console.error('publish failed:', error)
  })
}, 1_000)

console.log(`rt demo: http://localhost:${port}`)

let closing = false
async function shutdown(signal: string): Promise<void> {
  if (closing) return
  closing = true
  console.log(`${signal}: closing`)
  clearInterval(ticker)
  // Streams end with rt.closing; the server then stops once no request is open.
  await hub.close()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  console.log('closed')
}
process.once('SIGINT', () => void shutdown('SIGINT'))
process.once('SIGTERM', () => void shutdown('SIGTERM'))
