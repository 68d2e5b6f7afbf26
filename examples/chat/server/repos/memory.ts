/**
 * The in-memory store: the default, lost on restart. Every write is reported as a change,
 * in order, the way a MongoDB change stream reports it, so both stores share one mapper.
 * @module
 */
import type { Group, Member, Message, Notification, Role, User } from '../../shared/types.js'
import { type Change, type Collection, memberKey, newId, notificationKey, type Repositories } from './types.js'

const copy = <T>(value: T): T => structuredClone(value)

export function memoryRepositories(): Repositories {
  const users = new Map<string, User>()
  const groups = new Map<string, Group>()
  const members = new Map<string, Member>()
  /** Per group, in sequence order. */
  const messages = new Map<string, Message[]>()
  /** Per user, oldest first (ids are time-ordered). */
  const notifications = new Map<string, Notification[]>()
  const listeners = new Set<(change: Change) => void>()

  const emit = (change: Change) => {
    for (const listener of listeners) listener(change)
  }
  const inserted = (collection: Collection, doc: object) =>
    emit({ op: 'insert', collection, doc: copy(doc) as Record<string, unknown> })
  const updated = (collection: Collection, doc: object, fields: string[]) =>
    emit({ op: 'update', collection, doc: copy(doc) as Record<string, unknown>, fields })

  const inbox = (userId: string) => {
    let list = notifications.get(userId)
    if (list === undefined) {
      list = []
      notifications.set(userId, list)
    }
    return list
  }

  return {
    users: {
      async upsert(user) {
        const known = users.get(user.id)
        if (known !== undefined) return copy(known)
        users.set(user.id, copy(user))
        inserted('users', user)
        return copy(user)
      },
      async get(id) {
        const user = users.get(id)
        return user === undefined ? null : copy(user)
      },
      async list() {
        return [...users.values()].map(copy)
      },
      async many(ids) {
        return ids.flatMap((id) => {
          const user = users.get(id)
          return user === undefined ? [] : [copy(user)]
        })
      },
    },
    groups: {
      async insert(group) {
        groups.set(group.id, copy(group))
        messages.set(group.id, [])
        inserted('groups', group)
      },
      async get(id) {
        const group = groups.get(id)
        return group === undefined ? null : copy(group)
      },
      async update(id, patch) {
        const group = groups.get(id)
        if (group === undefined) return null
        const next = { ...group, ...patch }
        groups.set(id, next)
        updated('groups', next, Object.keys(patch))
        return copy(next)
      },
    },
    members: {
      async insert(member) {
        members.set(memberKey(member.groupId, member.userId), copy(member))
        inserted('members', { _id: memberKey(member.groupId, member.userId), ...member })
      },
      async get(groupId, userId) {
        const member = members.get(memberKey(groupId, userId))
        return member === undefined ? null : copy(member)
      },
      async list(groupId) {
        return [...members.values()].filter((m) => m.groupId === groupId).map(copy)
      },
      async listByUser(userId) {
        return [...members.values()].filter((m) => m.userId === userId).map(copy)
      },
      async remove(groupId, userId) {
        const key = memberKey(groupId, userId)
        if (!members.delete(key)) return false
        emit({ op: 'delete', collection: 'members', id: key })
        return true
      },
      async setRole(groupId, userId, role: Role) {
        const key = memberKey(groupId, userId)
        const member = members.get(key)
        if (member === undefined) return null
        const next = { ...member, role }
        members.set(key, next)
        updated('members', { _id: key, ...next }, ['role'])
        return copy(next)
      },
      async advance(groupId, userId, to) {
        const key = memberKey(groupId, userId)
        const member = members.get(key)
        if (member === undefined) return null
        const fields: string[] = []
        let next = member
        if (to.deliveredSeq !== undefined && to.deliveredSeq > next.deliveredSeq) {
          next = { ...next, deliveredSeq: to.deliveredSeq }
          fields.push('deliveredSeq')
        }
        if (to.readSeq !== undefined && to.readSeq > next.readSeq) {
          next = { ...next, readSeq: to.readSeq }
          fields.push('readSeq')
        }
        if (fields.length === 0) return null
        members.set(key, next)
        updated('members', { _id: key, ...next }, fields)
        return copy(next)
      },
    },
    messages: {
      async insert(input) {
        const list = messages.get(input.groupId)
        if (list === undefined) throw new Error(`no group ${input.groupId}`)
        const message: Message = { ...input, id: newId(input.createdAt), seq: list.length + 1 }
        list.push(message)
        inserted('messages', message)
        return copy(message)
      },
      async get(groupId, id) {
        const message = messages.get(groupId)?.find((m) => m.id === id)
        return message === undefined ? null : copy(message)
      },
      async page(groupId, limit, beforeSeq) {
        const list = messages.get(groupId) ?? []
        const end = beforeSeq === undefined ? list.length : Math.max(0, Math.min(list.length, beforeSeq - 1))
        const start = Math.max(0, end - limit)
        return { messages: list.slice(start, end).map(copy), more: start > 0 }
      },
      async lastSeq(groupId) {
        return messages.get(groupId)?.length ?? 0
      },
      async markDeleted(groupId, id, at) {
        const list = messages.get(groupId) ?? []
        const index = list.findIndex((m) => m.id === id)
        const message = list[index]
        if (message === undefined || message.deletedAt !== undefined) return null
        const next: Message = { ...message, text: '', deletedAt: at }
        list[index] = next
        updated('messages', next, ['text', 'deletedAt'])
        return copy(next)
      },
    },
    notifications: {
      async insert(notification) {
        inbox(notification.userId).push(copy(notification))
        inserted('notifications', { _id: notificationKey(notification.userId, notification.id), ...notification })
      },
      async get(userId, id) {
        const found = notifications.get(userId)?.find((n) => n.id === id)
        return found === undefined ? null : copy(found)
      },
      async page(userId, limit, before) {
        const list = notifications.get(userId) ?? []
        const older = before === undefined ? list : list.filter((n) => n.id < before)
        const items = older.slice(-limit).reverse()
        return { items: items.map(copy), more: older.length > limit }
      },
      async unread(userId) {
        return (notifications.get(userId) ?? []).filter((n) => n.readAt === undefined).length
      },
      async markRead(userId, id, at) {
        const list = notifications.get(userId) ?? []
        const index = list.findIndex((n) => n.id === id)
        const found = list[index]
        if (found === undefined || found.readAt !== undefined) return null
        const next = { ...found, readAt: at }
        list[index] = next
        updated('notifications', { _id: notificationKey(userId, id), ...next }, ['readAt'])
        return copy(next)
      },
      async markAllRead(userId, at) {
        const list = notifications.get(userId) ?? []
        let count = 0
        list.forEach((n, index) => {
          if (n.readAt !== undefined) return
          const next = { ...n, readAt: at }
          list[index] = next
          count++
          updated('notifications', { _id: notificationKey(userId, n.id), ...next }, ['readAt'])
        })
        return count
      },
      async remove(userId, id) {
        const list = notifications.get(userId) ?? []
        const index = list.findIndex((n) => n.id === id)
        if (index < 0) return false
        list.splice(index, 1)
        emit({ op: 'delete', collection: 'notifications', id: notificationKey(userId, id) })
        return true
      },
    },
    onChange(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    async close() {
      listeners.clear()
    },
  }
}
