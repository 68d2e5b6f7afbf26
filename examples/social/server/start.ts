/**
 * Starts the feed: picks the store (`MONGODB_URI` or memory) and its change source, seeds
 * an empty store, builds the UI when its sources changed, starts the source and listens.
 * @module
 */
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Source } from '@rt/server'
import type { SocialEvents } from '../shared/types.js'
import { createSocialApp, SOURCE_NAME } from './app.js'
import { buildUi } from './build.js'
import { eventsOf, type MapperContext } from './events.js'
import { memoryChangeSource } from './memory-source.js'
import { memoryStore } from './repos/memory.js'
import type { Repositories } from './repos/types.js'
import { seed } from './seed.js'

export const SOCIAL_ROOT: string = dirname(dirname(fileURLToPath(import.meta.url)))

export interface StartOptions {
  /** @default 3001, or a free port when it is taken */
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

export interface RunningSocial {
  readonly url: string
  readonly port: number
  readonly mode: 'memory' | 'mongodb'
  close(): Promise<void>
}

const DEV_SECRET = 'rt-social-development-secret'

function secretFrom(options: StartOptions): string {
  const secret = options.secret ?? process.env.SOCIAL_SECRET
  if (secret !== undefined && secret.length >= 16) return secret
  if (secret !== undefined) throw new Error('SOCIAL_SECRET must be at least 16 characters')
  if (process.env.NODE_ENV === 'production') throw new Error('set SOCIAL_SECRET in production')
  return DEV_SECRET
}

export async function startSocial(options: StartOptions = {}): Promise<RunningSocial> {
  const print = options.log ?? ((line: string) => console.log(line))
  const secret = secretFrom(options)
  const onError = (error: unknown) => console.error('social:', error)
  let repos: Repositories
  let source: (mapper: MapperContext) => Source<SocialEvents>
  let closeStore = async () => {}
  if (options.mongodbUri) {
    const { connectMongo } = await import('./mongo.js')
    const mongo = await connectMongo(options.mongodbUri)
    repos = mongo.repos
    source = (mapper) => mongo.source(SOURCE_NAME, mapper)
    closeStore = () => mongo.close()
  } else {
    const store = memoryStore()
    repos = store.repos
    // Seeded before the source starts: the seed is the first state, not a burst of events.
    await seed(repos)
    const position = { seq: store.changes.head() }
    source = (mapper) =>
      memoryChangeSource({
        name: SOURCE_NAME,
        changes: store.changes,
        position,
        map: (change) => eventsOf(change, mapper),
      })
  }
  await seed(repos)
  const webRoot = join(SOCIAL_ROOT, 'dist')
  if (options.skipUi !== true) await buildUi(SOCIAL_ROOT, webRoot)
  const social = createSocialApp({
    repos,
    source,
    mode: options.mongodbUri ? 'mongodb' : 'memory',
    secret,
    webRoot,
    onError,
    heartbeatMs: options.heartbeatMs,
  })
  await social.source.start()
  const wanted = options.port ?? 3001
  try {
    await social.app.listen({ port: wanted, host: options.host ?? 'localhost' })
  } catch (error) {
    if (options.strictPort === true || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || wanted === 0) {
      throw error
    }
    await social.app.listen({ port: 0, host: options.host ?? 'localhost' })
  }
  const port = (social.app.server.address() as { port: number }).port
  if (wanted !== 0 && port !== wanted) print(`port ${wanted} is taken, using a free one`)
  return {
    url: `http://localhost:${port}`,
    port,
    mode: options.mongodbUri ? 'mongodb' : 'memory',
    async close() {
      // Streams end with rt.closing, so browsers resume elsewhere (or after a restart).
      await social.source.close()
      await social.hub.close()
      const server = social.app.server
      // Browsers reconnect at once on kept-alive sockets, which then never go idle.
      const force = setTimeout(() => server.closeAllConnections(), 2_000)
      await social.app.close()
      clearTimeout(force)
      await repos.close()
      await closeStore()
    },
  }
}
