/**
 * Starts the chat: picks the store (`MONGODB_URI` or memory), wires the event source,
 * seeds an empty store, builds the UI when its sources changed, and listens.
 * @module
 */
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createChatApp } from './app.js'
import { buildUi } from './build.js'
import { publishChanges } from './publish.js'
import { memoryRepositories } from './repos/memory.js'
import type { Repositories } from './repos/types.js'
import { seed } from './seed.js'
import { createChatService } from './service.js'

export const CHAT_ROOT: string = dirname(dirname(fileURLToPath(import.meta.url)))

export interface StartOptions {
  /** @default 3000, or a free port when it is taken */
  readonly port?: number
  readonly host?: string | undefined
  /** A replica set's URI: store in MongoDB, events from its change stream. @default memory */
  readonly mongodbUri?: string | undefined
  /** Signs session cookies. @default a fixed development secret (refused in production) */
  readonly secret?: string | undefined
  /** Take the port as given: fail instead of falling back to a free one. @default false */
  readonly strictPort?: boolean
  readonly heartbeatMs?: number
  /** Skip the UI build (API-only tests). @default false */
  readonly skipUi?: boolean
  readonly log?: (line: string) => void
}

export interface RunningChat {
  readonly url: string
  readonly port: number
  readonly mode: 'memory' | 'mongodb'
  close(): Promise<void>
}

const DEV_SECRET = 'rt-chat-development-secret'

function secretFrom(options: StartOptions): string {
  const secret = options.secret ?? process.env.CHAT_SECRET
  if (secret !== undefined && secret.length >= 16) return secret
  if (secret !== undefined) throw new Error('CHAT_SECRET must be at least 16 characters')
  if (process.env.NODE_ENV === 'production') throw new Error('set CHAT_SECRET in production')
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

export async function startChat(options: StartOptions = {}): Promise<RunningChat> {
  const print = options.log ?? ((line: string) => console.log(line))
  const secret = secretFrom(options)
  const onError = (error: unknown) => console.error('chat:', error)
  let repos: Repositories
  let attachSource: (app: ReturnType<typeof createChatApp>) => Promise<() => Promise<void>>
  let closeStore = async () => {}
  if (options.mongodbUri) {
    const { connectMongo } = await import('./mongo.js')
    const mongo = await connectMongo(options.mongodbUri)
    repos = mongo.repos
    attachSource = (chat) => chat.hub.attach(mongo.source(repos))
    closeStore = () => mongo.close()
  } else {
    repos = memoryRepositories()
    attachSource = async (chat) => publishChanges(repos, chat.hub, onError)
  }
  await seed(createChatService(repos))
  const webRoot = join(CHAT_ROOT, 'dist')
  if (options.skipUi !== true) await buildUi(CHAT_ROOT, webRoot)
  const chat = createChatApp({ repos, secret, webRoot, onError, heartbeatMs: options.heartbeatMs })
  const stopSource = await attachSource(chat)
  const server = createServer(chat.app)
  const port = await listen(server, options.port ?? 3000, options.host, options.strictPort === true)
  const mode = options.mongodbUri ? 'mongodb' : 'memory'
  if (options.port !== undefined && options.port !== 0 && port !== options.port) {
    print(`port ${options.port} is taken, using a free one`)
  }
  return {
    url: `http://localhost:${port}`,
    port,
    mode,
    async close() {
      await stopSource()
      // Streams end with rt.closing, so browsers resume elsewhere (or after a restart).
      await chat.close()
      const closed = once(server, 'close')
      server.close()
      server.closeIdleConnections()
      // Browsers reconnect at once on kept-alive sockets, which then never go idle.
      const force = setTimeout(() => server.closeAllConnections(), 2_000)
      await closed
      clearTimeout(force)
      await repos.close()
      await closeStore()
    },
  }
}
