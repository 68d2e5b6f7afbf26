/**
 * Starts the notification service: picks the store (`MONGODB_URI` or memory), wires the
 * event source, seeds an empty store, builds the Next.js app when its sources changed,
 * and serves it with Next.js's request handler on a plain `node:http` server.
 * @module
 */
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Log } from '@rt/server'
import next from 'next'
import { APP_KEY } from '../lib/app-key.js'
import { createNotificationsApp, type NotificationsApp } from './app.js'
import { buildIfChanged, bundlePackages } from './build.js'
import { publishInserts } from './publish.js'
import { memoryStore } from './repos/memory.js'
import type { Store } from './repos/types.js'
import { seed } from './seed.js'

export const ROOT: string = dirname(dirname(fileURLToPath(import.meta.url)))

export interface StartOptions {
  /** @default 3000, or a free port when it is taken */
  readonly port?: number
  readonly host?: string | undefined
  /** A replica set's URI: store, log and resume token in MongoDB, events from its change stream. @default memory */
  readonly mongodbUri?: string | undefined
  /** Signs session cookies. @default a fixed development secret (refused in production) */
  readonly secret?: string | undefined
  /** Take the port as given: fail instead of falling back to a free one. @default false */
  readonly strictPort?: boolean
  readonly heartbeatMs?: number | undefined
  /** `next dev` (hot reload, compiles on request) instead of the production build. @default false */
  readonly dev?: boolean
  readonly log?: (line: string) => void
}

export interface RunningNotifications {
  readonly url: string
  readonly port: number
  readonly mode: 'memory' | 'mongodb'
  readonly app: NotificationsApp
  close(): Promise<void>
}

const DEV_SECRET = 'rt-notifications-development-secret'

function secretFrom(options: StartOptions): string {
  const secret = options.secret ?? process.env.NOTIFICATIONS_SECRET
  if (secret !== undefined && secret.length >= 16) return secret
  if (secret !== undefined) throw new Error('NOTIFICATIONS_SECRET must be at least 16 characters')
  if (process.env.NODE_ENV === 'production') throw new Error('set NOTIFICATIONS_SECRET in production')
  return DEV_SECRET
}

/** Listens on `port`, or on a free port when that one is taken (unless `strict`). */
async function listen(server: Server, port: number, host: string | undefined, strict: boolean): Promise<number> {
  const attempt = (p: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(p, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  try {
    await attempt(port)
  } catch (error) {
    if (strict || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw error
    await attempt(0)
  }
  return (server.address() as AddressInfo).port
}

export async function startNotifications(options: StartOptions = {}): Promise<RunningNotifications> {
  const print = options.log ?? ((line: string) => console.log(line))
  const secret = secretFrom(options)
  const onError = (error: unknown) => console.error('notifications:', error)
  const dev = options.dev === true
  // Before anything is opened: a build that fails leaves nothing running.
  if (dev) await bundlePackages(ROOT)
  else await buildIfChanged(ROOT, print)

  let store: Store
  let log: Log | undefined
  let closeStore = async () => {}
  let attach: (app: NotificationsApp) => Promise<() => Promise<void>>
  const mode = options.mongodbUri ? 'mongodb' : 'memory'
  if (options.mongodbUri) {
    const { connectMongo } = await import('./mongo.js')
    const mongo = await connectMongo(options.mongodbUri)
    store = mongo.store
    log = mongo.log
    closeStore = () => mongo.close()
    attach = (app) => app.hub.attach(mongo.source(store, onError))
  } else {
    store = memoryStore()
    attach = async (app) => publishInserts(store, app.hub, onError)
  }
  const app = createNotificationsApp({ mode, store, secret, log, heartbeatMs: options.heartbeatMs, onError })
  const stopSource = await attach(app)
  await seed(app.service, store)
  // The Next.js routes and pages find the app here (lib/server.ts).
  ;(globalThis as Record<symbol, unknown>)[APP_KEY] = app

  const nextApp = next({ dev, dir: ROOT, quiet: true })
  await nextApp.prepare()
  const handle = nextApp.getRequestHandler()
  const server = createServer((req, res) => void handle(req, res))
  const port = await listen(server, options.port ?? 3000, options.host, options.strictPort === true)
  if (options.port !== undefined && options.port !== 0 && port !== options.port) {
    print(`port ${options.port} is taken, using a free one`)
  }
  return {
    url: `http://localhost:${port}`,
    port,
    mode,
    app,
    async close() {
      await stopSource()
      // Streams end with rt.closing, so browsers resume elsewhere (or after a restart).
      await app.close()
      const closed = once(server, 'close')
      server.close()
      server.closeIdleConnections()
      const force = setTimeout(() => server.closeAllConnections(), 2_000)
      await closed
      clearTimeout(force)
      await nextApp.close()
      await store.close()
      await closeStore()
      delete (globalThis as Record<symbol, unknown>)[APP_KEY]
    },
  }
}
