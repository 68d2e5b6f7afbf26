/**
 * The rules: only admins send; a notification goes to one user or to everyone with a
 * role; users read only their own. Sending only inserts a document: its delivery comes
 * from the store's inserts (the change stream on MongoDB), whoever inserted it. Read
 * marks are the app's own events.
 * @module
 */
import type { Hub, Identity } from '@rt/server'
import {
  INBOX_SIZE,
  type Inbox,
  type NotificationDoc,
  type NotificationEvents,
  type User,
  userTopic,
} from '../shared/types.js'
import { AppError } from './errors.js'
import { newId, type Store } from './repos/types.js'
import { id, LIMITS, level, target, text } from './validate.js'

export interface NotificationService {
  users(): Promise<User[]>
  user(id: string): Promise<User | null>
  addUser(user: User): Promise<void>
  /** Inserts a notification document; `from` must be an admin. `at` backdates it (seed data). */
  send(from: User, input: unknown, at?: number): Promise<NotificationDoc>
  inbox(user: User): Promise<Inbox>
  /** Marks `ids` (or all, with `all: true`) read and tells the user's other tabs. */
  read(user: User, input: unknown): Promise<void>
  recent(admin: User): Promise<NotificationDoc[]>
}

export function createNotificationService(
  store: Store,
  hub: Pick<Hub<NotificationEvents, Identity>, 'publish'>,
): NotificationService {
  const admin = (user: User) => {
    if (user.role !== 'admin') throw new AppError('forbidden', 'only admins send notifications')
  }
  return {
    users: () => store.users.list(),
    user: (userId) => store.users.get(userId),
    addUser: (user) => store.users.upsert(user),
    async send(from, input, at) {
      admin(from)
      const body = (input ?? {}) as Record<string, unknown>
      const to = target(body.to)
      if ('userId' in to && (await store.users.get(to.userId)) === null) {
        throw new AppError('not_found', 'no such user')
      }
      const createdAt = at ?? Date.now()
      const doc: NotificationDoc = {
        id: newId(createdAt),
        title: text(body.title, 'title', 1, LIMITS.title),
        body: body.body === undefined ? '' : text(body.body, 'body', 0, LIMITS.body),
        level: body.level === undefined ? 'info' : level(body.level),
        to,
        from: from.id,
        createdAt,
      }
      await store.notifications.insert(doc)
      return doc
    },
    inbox: (user) => store.notifications.inbox(user, INBOX_SIZE),
    async read(user, input) {
      const body = (input ?? {}) as { ids?: unknown; all?: unknown }
      const readAt = Date.now()
      if (body.all === true) {
        await store.reads.markAll(user, readAt)
        const unread = await store.notifications.unread(user)
        await hub.publish({
          type: 'notification.read',
          topic: userTopic(user.id),
          to: [user.id],
          data: { ids: [], all: true, readAt, unread },
        })
        return
      }
      if (!Array.isArray(body.ids) || body.ids.length === 0 || body.ids.length > LIMITS.ids) {
        throw new AppError('bad_request', `ids must be a list of 1 to ${LIMITS.ids} ids, or all: true`)
      }
      const ids = [...new Set(body.ids.map((value) => id(value, 'ids[]')))]
      for (const one of ids) {
        if (!(await store.notifications.visible(user, one))) throw new AppError('not_found', 'no such notification')
      }
      const marked = await store.reads.mark(user.id, ids, readAt)
      if (marked.length === 0) return
      const unread = await store.notifications.unread(user)
      await hub.publish({
        type: 'notification.read',
        topic: userTopic(user.id),
        to: [user.id],
        data: { ids: marked, all: false, readAt, unread },
      })
    },
    async recent(from) {
      admin(from)
      return store.notifications.recent(20)
    },
  }
}
