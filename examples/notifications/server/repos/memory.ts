/**
 * The in-memory store: maps in process memory, and a feed of inserts in write order that
 * stands in for the change stream.
 * @module
 */
import type { Inbox, NotificationDoc, User } from '../../shared/types.js'
import { isFor, readKey, type Store } from './types.js'

export function memoryStore(): Store {
  const users = new Map<string, User>()
  /** Oldest first; ids are time-ordered. */
  const docs: NotificationDoc[] = []
  const reads = new Map<string, number>()
  const listeners = new Set<(doc: NotificationDoc) => void>()
  const mine = (user: User) => docs.filter((doc) => isFor(doc, user))

  return {
    users: {
      async upsert(user) {
        users.set(user.id, user)
      },
      get: async (id) => users.get(id) ?? null,
      list: async () => [...users.values()],
      withRole: async (role) => [...users.values()].filter((u) => u.role === role),
    },
    notifications: {
      async insert(doc) {
        docs.push(doc)
        for (const listener of listeners) listener(doc)
      },
      visible: async (user, id) => docs.some((doc) => doc.id === id && isFor(doc, user)),
      async inbox(user, limit): Promise<Inbox> {
        const all = mine(user)
        const items = all
          .slice(-limit)
          .reverse()
          .map((doc) => ({ ...doc, readAt: reads.get(readKey(user.id, doc.id)) }))
        return { items, unread: all.filter((doc) => !reads.has(readKey(user.id, doc.id))).length }
      },
      unread: async (user) => mine(user).filter((doc) => !reads.has(readKey(user.id, doc.id))).length,
      recent: async (limit) => docs.slice(-limit).reverse(),
    },
    reads: {
      async mark(userId, ids, at) {
        const marked: string[] = []
        for (const id of ids) {
          if (reads.has(readKey(userId, id))) continue
          reads.set(readKey(userId, id), at)
          marked.push(id)
        }
        return marked
      },
      async markAll(user, at) {
        for (const doc of mine(user)) {
          const key = readKey(user.id, doc.id)
          if (doc.createdAt <= at && !reads.has(key)) reads.set(key, at)
        }
      },
    },
    onInsert(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    async close() {
      listeners.clear()
    },
  }
}
