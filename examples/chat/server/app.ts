/**
 * The chat's HTTP server: the REST API, the dev login, the rt hub at `/events` and the
 * built UI, on Express 5. Storage and the event source are passed in (see `main.ts`).
 * @module
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createHub, type Hub, type Log, memoryLog, type RtRequest } from '@rt/server'
import { healthHandler, toNodeHandler } from '@rt/server/node'
import express, { type NextFunction, type Request, type Response } from 'express'
import { type ChatEvents, groupTopic, type Snapshot, userTopic } from '../shared/types.js'
import { ChatError } from './errors.js'
import { trackDeliveries } from './receipts.js'
import type { Repositories } from './repos/types.js'
import { type ChatService, createChatService, LIMITS } from './service.js'
import { clearedCookie, readSession, type Session, sessionCookie } from './session.js'
import { id, int } from './validate.js'

/** Who a stream or request belongs to. */
export interface ChatIdentity {
  readonly userId: string
  readonly name: string
}

export interface ChatAppOptions {
  readonly repos: Repositories
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

export interface ChatApp {
  readonly app: express.Express
  readonly hub: Hub<ChatEvents, ChatIdentity>
  readonly service: ChatService
  /** Snapshot requests served, by kind: the resilience tests count refetches with it. */
  readonly snapshots: { groups: number; messages: number; notifications: number }
  close(): Promise<void>
}

/** Typing events per user and group at most this often. */
const TYPING_EVERY_MS = 1_000

export function createChatApp(options: ChatAppOptions): ChatApp {
  const { repos, secret } = options
  const onError = options.onError ?? ((error: unknown) => console.error(error))
  const service = createChatService(repos, { maxUsers: options.maxUsers })
  const log = options.log ?? memoryLog({ capacity: 10_000 })

  const session = (cookie: string | null | undefined): Session | null => readSession(cookie, secret)
  const hub = createHub<ChatEvents, ChatIdentity>({
    log,
    heartbeatMs: options.heartbeatMs,
    onError,
    authenticate: (req: RtRequest) => {
      const found = session(req.headers.get('cookie'))
      return found === null ? null : { userId: found.userId, name: found.name }
    },
    // Your own topic, and the topics of the groups you are in: nothing else.
    authorize: async (identity, topic) => {
      if (topic === userTopic(identity.userId)) return true
      if (!topic.startsWith('group:')) return false
      return service.isMember(topic.slice('group:'.length), identity.userId)
    },
  })
  const stopDeliveries = trackDeliveries(log, hub, service, onError)
  const snapshots = { groups: 0, messages: 0, notifications: 0 }
  const snapshot = async <T>(read: () => Promise<T>): Promise<Snapshot<T>> => {
    // Read BEFORE the data, so a change made during the read is replayed, never lost.
    const cursor = hub.head()
    return { data: await read(), cursor }
  }

  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false)
  const events = toNodeHandler(hub)
  // Before the JSON parser: the hub reads its own ack bodies.
  app.all('/events', (req, res, next) => void events(req, res, next))
  app.get('/healthz', healthHandler(hub))
  app.get('/api/stats', (_req, res) => {
    res.json({ snapshots, connections: hub.stats().connections })
  })

  const api = express.Router()
  api.use(express.json({ limit: '16kb' }))
  api.use((_req, res, next) => {
    res.setHeader('cache-control', 'no-store')
    next()
  })

  api.post('/login', async (req, res) => {
    const user = await service.login(req.body?.name)
    res.setHeader(
      'set-cookie',
      sessionCookie({ userId: user.id, name: user.name }, secret, options.secureCookies === true),
    )
    res.json({ user })
  })
  api.post('/logout', (_req, res) => {
    res.setHeader('set-cookie', clearedCookie())
    res.status(204).end()
  })
  // The login screen lists who to be.
  api.get('/users', async (_req, res) => {
    res.json({ users: await service.users() })
  })

  // Everything below needs a session.
  api.use(async (req, res, next) => {
    const found = session(req.headers.cookie)
    if (found === null) throw new ChatError('unauthorized', 'log in first')
    res.locals.user = await service.ensureUser(found.userId, found.name)
    next()
  })
  const me = (res: Response): string => (res.locals.user as { id: string }).id

  api.get('/me', (_req, res) => {
    res.json({ user: res.locals.user })
  })
  api.get('/groups', async (_req, res) => {
    snapshots.groups++
    res.json(await snapshot(() => service.groups(me(res))))
  })
  api.post('/groups', async (req, res) => {
    const members = Array.isArray(req.body?.members) ? (req.body.members as unknown[]) : []
    if (members.length > LIMITS.membersPerGroup) throw new ChatError('bad_request', 'too many members')
    const group = await service.createGroup(me(res), {
      name: req.body?.name,
      description: req.body?.description,
      members: members.map((m) => id(m, 'member')),
    })
    res.status(201).json({ group })
  })
  api.get('/groups/:groupId', async (req, res) => {
    res.json({ group: await service.group(me(res), id(req.params.groupId, 'group')) })
  })
  api.patch('/groups/:groupId', async (req, res) => {
    const group = await service.updateGroup(me(res), id(req.params.groupId, 'group'), {
      name: req.body?.name,
      description: req.body?.description,
    })
    res.json({ group })
  })
  api.delete('/groups/:groupId', async (req, res) => {
    await service.deleteGroup(me(res), id(req.params.groupId, 'group'))
    res.status(204).end()
  })
  api.post('/groups/:groupId/members', async (req, res) => {
    const member = await service.addMember(me(res), id(req.params.groupId, 'group'), id(req.body?.userId, 'userId'))
    res.status(201).json({ member })
  })
  api.delete('/groups/:groupId/members/:userId', async (req, res) => {
    await service.removeMember(me(res), id(req.params.groupId, 'group'), id(req.params.userId, 'userId'))
    res.status(204).end()
  })
  api.patch('/groups/:groupId/members/:userId', async (req, res) => {
    const member = await service.setRole(
      me(res),
      id(req.params.groupId, 'group'),
      id(req.params.userId, 'userId'),
      req.body?.role,
    )
    res.json({ member })
  })
  api.get('/groups/:groupId/messages', async (req, res) => {
    const groupId = id(req.params.groupId, 'group')
    const limit = int(req.query.limit, 'limit', 1, LIMITS.pageSize, 50)
    const before =
      req.query.before === undefined ? undefined : int(req.query.before, 'before', 1, Number.MAX_SAFE_INTEGER)
    snapshots.messages++
    res.json(await snapshot(() => service.messages(me(res), groupId, limit, before)))
  })
  api.post('/groups/:groupId/messages', async (req, res) => {
    const message = await service.send(me(res), id(req.params.groupId, 'group'), req.body?.text)
    res.status(201).json({ message })
  })
  api.delete('/groups/:groupId/messages/:messageId', async (req, res) => {
    await service.deleteMessage(me(res), id(req.params.groupId, 'group'), id(req.params.messageId, 'message'))
    res.status(204).end()
  })
  api.post('/groups/:groupId/read', async (req, res) => {
    const seq = int(req.body?.seq, 'seq', 0, Number.MAX_SAFE_INTEGER)
    await service.markRead(me(res), id(req.params.groupId, 'group'), seq)
    res.status(204).end()
  })
  const lastTyping = new Map<string, number>()
  api.post('/groups/:groupId/typing', async (req, res) => {
    const groupId = id(req.params.groupId, 'group')
    const userId = me(res)
    await service.checkTyping(userId, groupId)
    const key = `${groupId}|${userId}`
    const now = Date.now()
    if (now - (lastTyping.get(key) ?? 0) >= TYPING_EVERY_MS) {
      if (lastTyping.size > 10_000) lastTyping.clear()
      lastTyping.set(key, now)
      // Not stored anywhere: typing is the one event the app publishes itself, in every mode.
      const to = (await repos.members.list(groupId)).map((m) => m.userId).filter((u) => u !== userId)
      await hub.publish({ type: 'typing', topic: groupTopic(groupId), to, data: { groupId, userId } })
    }
    res.status(204).end()
  })
  api.get('/notifications', async (req, res) => {
    const limit = int(req.query.limit, 'limit', 1, LIMITS.pageSize, 20)
    const before = req.query.before === undefined ? undefined : id(req.query.before, 'before')
    snapshots.notifications++
    res.json(await snapshot(() => service.notifications(me(res), limit, before)))
  })
  api.post('/notifications/read-all', async (_req, res) => {
    res.json({ read: await service.readAllNotifications(me(res)) })
  })
  api.post('/notifications/:notificationId/read', async (req, res) => {
    await service.readNotification(me(res), id(req.params.notificationId, 'notification'))
    res.status(204).end()
  })
  api.delete('/notifications/:notificationId', async (req, res) => {
    await service.deleteNotification(me(res), id(req.params.notificationId, 'notification'))
    res.status(204).end()
  })
  api.use((_req, _res) => {
    throw new ChatError('not_found', 'no such endpoint')
  })
  app.use('/api', api)

  const webRoot = options.webRoot
  if (webRoot !== undefined && existsSync(join(webRoot, 'index.html'))) {
    app.use(express.static(webRoot, { index: false, maxAge: '1h' }))
    app.get('/{*path}', (_req, res) => {
      res.setHeader('cache-control', 'no-cache')
      res.sendFile(join(webRoot, 'index.html'))
    })
  }

  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error)
    if (error instanceof ChatError) {
      res.status(error.status).json({ error: { code: error.code, message: error.message } })
      return
    }
    const status = (error as { status?: unknown; type?: unknown }).status
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // Express's own body parser: malformed or too large JSON.
      res.status(status).json({ error: { code: 'bad_request', message: 'unreadable request body' } })
      return
    }
    onError(error)
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } })
  })

  return {
    app,
    hub,
    service,
    snapshots,
    async close() {
      stopDeliveries()
      await hub.close()
    },
  }
}
