/**
 * The feed's HTTP server on Fastify 5: the REST API, the dev login, the rt hub at
 * `/events` (`@rt/server/fastify`), the admin endpoints and the built UI. Storage and the
 * change source are passed in (see `start.ts`).
 * @module
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createHub, type Hub, type Log, memoryLog, type RtRequest, type Source } from '@rt/server'
import { fastifyRealtime } from '@rt/server/fastify'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { ADMIN, FEED, type Profile, type Snapshot, type SocialEvents, userTopic } from '../shared/types.js'
import { SocialError } from './errors.js'
import type { MapperContext } from './events.js'
import { profileLoader } from './profiles.js'
import { newId, type Repositories } from './repos/types.js'
import { createSocialService, LIMITS, type SocialService } from './service.js'
import { clearedCookie, readSession, sessionCookie } from './session.js'
import { type SourceControl, sourceControl } from './source-control.js'
import { staticFiles } from './static.js'
import { id, text } from './validate.js'

/** Who a stream or request belongs to. */
export interface SocialIdentity {
  readonly userId: string
  readonly name: string
  readonly admin: boolean
}

export interface SocialAppOptions {
  readonly repos: Repositories
  /** Makes the change source (a change stream, or the memory store's feed) over one position. */
  readonly source: (mapper: MapperContext) => Source<SocialEvents>
  readonly mode: 'memory' | 'mongodb'
  /** Signs the session cookie. */
  readonly secret: string
  /** Where the built UI is; the API alone when absent. */
  readonly webRoot?: string | undefined
  /** Mark cookies `Secure` (behind HTTPS). @default false */
  readonly secureCookies?: boolean
  /** The hub's log. @default memoryLog() */
  readonly log?: Log
  /** Heartbeat of the streams, in ms. @default 15_000 */
  readonly heartbeatMs?: number
  /** Accounts the dev login creates at most. @default 1_000 */
  readonly maxUsers?: number
  readonly onError?: (error: unknown) => void
}

export interface SocialApp {
  readonly app: FastifyInstance
  readonly hub: Hub<SocialEvents, SocialIdentity>
  readonly service: SocialService
  readonly source: SourceControl
  readonly profiles: { readonly queries: number }
  close(): Promise<void>
}

declare module 'fastify' {
  interface FastifyRequest {
    user: Profile
  }
}

export const SOURCE_NAME = 'social'

export function createSocialApp(options: SocialAppOptions): SocialApp {
  const { repos, secret } = options
  const onError = options.onError ?? ((error: unknown) => console.error(error))
  const service = createSocialService(repos, { maxUsers: options.maxUsers })
  const profiles = profileLoader((ids) => repos.users.many(ids))

  const hub = createHub<SocialEvents, SocialIdentity>({
    log: options.log ?? memoryLog({ capacity: 10_000 }),
    heartbeatMs: options.heartbeatMs,
    onError,
    authenticate: async (req: RtRequest) => {
      const session = readSession(req.headers.get('cookie'), secret)
      if (session === null) return null
      const profile = await repos.users.get(session.userId)
      return { userId: session.userId, name: session.name, admin: profile?.admin === true }
    },
    // Your own topic, the feed (new posts carry `to`), posts you can see, and for admins
    // the admin topic: nothing else.
    authorize: async (identity, topic) => {
      if (topic === userTopic(identity.userId) || topic === FEED) return true
      if (topic === ADMIN) return identity.admin
      if (!topic.startsWith('post:')) return false
      return service.canSee(identity.userId, topic.slice('post:'.length))
    },
  })
  const source = sourceControl({
    hub,
    name: SOURCE_NAME,
    mode: options.mode,
    make: () => options.source({ repos, profiles }),
    onChange: (report) => {
      hub.publish({ type: 'source.state', topic: ADMIN, data: report }).catch(onError)
    },
  })

  const app = Fastify({ bodyLimit: 16_384, logger: false })
  app.register(fastifyRealtime, { hub, path: '/events' })

  const snapshot = async <T>(read: () => Promise<T>): Promise<Snapshot<T>> => {
    // Read BEFORE the data, so a change made during the read is replayed, never lost.
    const cursor = hub.head()
    return { data: await read(), cursor }
  }
  const me = (req: FastifyRequest): string => req.user.id
  const param = (req: FastifyRequest, name: string): string => id((req.params as Record<string, unknown>)[name], name)
  const body = (req: FastifyRequest): Record<string, unknown> =>
    typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {}

  app.register(
    async (api) => {
      api.addHook('onSend', async (_req, reply) => {
        reply.header('cache-control', 'no-store')
      })
      api.post('/login', async (req, reply) => {
        const user = await service.login(body(req).name)
        reply.header(
          'set-cookie',
          sessionCookie({ userId: user.id, name: user.name }, secret, options.secureCookies === true),
        )
        return { user }
      })
      api.post('/logout', async (_req, reply) => {
        reply.header('set-cookie', clearedCookie()).code(204)
      })
      // The login screen lists who to be.
      api.get('/users', async () => ({ users: await service.users() }))

      // Everything below needs a session.
      api.register(async (authed) => {
        authed.decorateRequest('user', null as unknown as Profile)
        authed.addHook('preHandler', async (req) => {
          const session = readSession(req.headers.cookie, secret)
          if (session === null) throw new SocialError('unauthorized', 'log in first')
          req.user = await service.ensureUser(session.userId, session.name)
        })
        authed.get('/me', async (req) => ({ user: req.user }))
        authed.get('/feed', async (req) => snapshot(() => service.feed(me(req))))
        authed.get('/posts/:postId', async (req) => ({ post: await service.post(me(req), param(req, 'postId')) }))
        authed.post('/posts', async (req, reply) => {
          const post = await service.createPost(me(req), { text: body(req).text, poll: body(req).poll })
          reply.code(201)
          return { post }
        })
        authed.post('/posts/:postId/like', async (req, reply) => {
          await service.like(me(req), param(req, 'postId'))
          reply.code(204)
        })
        authed.delete('/posts/:postId/like', async (req, reply) => {
          await service.unlike(me(req), param(req, 'postId'))
          reply.code(204)
        })
        authed.post('/posts/:postId/comments', async (req, reply) => {
          await service.comment(me(req), param(req, 'postId'), body(req).text)
          reply.code(201)
          return {}
        })
        authed.post('/posts/:postId/vote', async (req, reply) => {
          await service.vote(me(req), param(req, 'postId'), body(req).option)
          reply.code(204)
        })
        authed.get('/people', async (req) => ({ people: await service.people(me(req)) }))
        authed.post('/people/:userId/follow', async (req, reply) => {
          await service.follow(me(req), param(req, 'userId'))
          reply.code(204)
        })
        authed.delete('/people/:userId/follow', async (req, reply) => {
          await service.unfollow(me(req), param(req, 'userId'))
          reply.code(204)
        })

        // Admins only.
        authed.register(async (admin) => {
          admin.addHook('preHandler', async (req) => {
            if (!req.user.admin) throw new SocialError('forbidden', 'admins only')
          })
          admin.get('/admin/status', async () => snapshot(async () => source.report()))
          admin.post('/admin/source/stop', async () => {
            await source.stop()
            return { source: source.report() }
          })
          admin.post('/admin/source/start', async () => {
            await source.start()
            return { source: source.report() }
          })
          admin.post('/admin/broadcast', async (req, reply) => {
            const message = text(body(req).text, 'text', 1, LIMITS.broadcast)
            const data = { id: newId(), text: message, from: req.user, at: Date.now() }
            // Not stored: a banner for whoever is connected now, published by the app itself.
            await hub.publish({ type: 'broadcast', topic: FEED, data })
            reply.code(201)
            return { broadcast: data }
          })
        })
      })
      api.all('/*', async () => {
        throw new SocialError('not_found', 'no such endpoint')
      })
    },
    { prefix: '/api' },
  )

  const webRoot = options.webRoot
  if (webRoot !== undefined && existsSync(join(webRoot, 'index.html'))) {
    const serve = staticFiles(webRoot)
    app.get('/*', async (req, reply) => {
      const file = await serve(req.url)
      return reply.header('content-type', file.type).header('cache-control', file.cache).send(file.body)
    })
  }

  app.setErrorHandler(async (error: unknown, _req: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof SocialError) {
      return reply.code(error.status).send({ error: { code: error.code, message: error.message } })
    }
    const status = (error as { statusCode?: unknown }).statusCode
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // Fastify's own body parser: malformed or too large JSON, a wrong content type.
      const message = status === 413 ? 'request body too large' : 'unreadable request body'
      return reply.code(status).send({ error: { code: 'bad_request', message } })
    }
    onError(error)
    return reply.code(500).send({ error: { code: 'internal', message: 'internal error' } })
  })

  return {
    app,
    hub,
    service,
    source,
    profiles,
    async close() {
      await source.close()
      await hub.close()
      await app.close()
    },
  }
}
