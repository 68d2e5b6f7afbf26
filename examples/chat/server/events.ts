/**
 * Turns a stored change into the events it means, for both stores: the in-memory store's
 * own change feed and MongoDB's change stream go through this one function, so the UI
 * sees the same events whichever store runs.
 * @module
 */
import type { PublishInput } from '@rt/server'
import {
  type ChatEvents,
  type Group,
  groupTopic,
  type Member,
  type Message,
  type Notification,
  userTopic,
} from '../shared/types.js'
import type { Change, Repositories } from './repos/types.js'

export type ChatEvent = PublishInput<ChatEvents>

/** Strips the store's own `_id` from a document. */
function record<T>(doc: Record<string, unknown>): T {
  const { _id, ...rest } = doc
  return rest as T
}

/** Splits a `<a>|<b>` key. */
function splitKey(id: string): [string, string] {
  const at = id.indexOf('|')
  return [id.slice(0, at), id.slice(at + 1)]
}

async function memberIds(repos: Repositories, groupId: string): Promise<string[]> {
  return (await repos.members.list(groupId)).map((m) => m.userId)
}

/** The events of one change, in the order they should be logged. */
export async function eventsOf(change: Change, repos: Repositories): Promise<ChatEvent[]> {
  switch (change.collection) {
    case 'messages':
      return messageEvents(change, repos)
    case 'members':
      return memberEvents(change, repos)
    case 'groups':
      return groupEvents(change, repos)
    case 'notifications':
      return notificationEvents(change, repos)
    case 'users':
      return []
  }
}

async function messageEvents(change: Change, repos: Repositories): Promise<ChatEvent[]> {
  if (change.op === 'delete') return []
  const message = record<Message>(change.doc)
  const topic = groupTopic(message.groupId)
  const to = await memberIds(repos, message.groupId)
  if (change.op === 'insert') return [{ type: 'message.new', topic, to, data: message }]
  if (!change.fields.includes('deletedAt')) return []
  return [{ type: 'message.deleted', topic, to, data: { groupId: message.groupId, id: message.id } }]
}

async function memberEvents(change: Change, repos: Repositories): Promise<ChatEvent[]> {
  if (change.op === 'delete') {
    const [groupId, userId] = splitKey(change.id)
    const to = [...(await memberIds(repos, groupId)), userId]
    return [
      { type: 'member.removed', topic: groupTopic(groupId), to, data: { groupId, userId } },
      { type: 'membership.removed', topic: userTopic(userId), to: [userId], data: { groupId } },
    ]
  }
  const member = record<Member>(change.doc)
  const topic = groupTopic(member.groupId)
  const to = await memberIds(repos, member.groupId)
  if (change.op === 'insert') {
    const user = (await repos.users.get(member.userId)) ?? { id: member.userId, name: member.userId }
    return [
      { type: 'member.added', topic, to, data: { member, user } },
      {
        type: 'membership.added',
        topic: userTopic(member.userId),
        to: [member.userId],
        data: { groupId: member.groupId },
      },
    ]
  }
  const events: ChatEvent[] = []
  if (change.fields.includes('role')) {
    events.push({
      type: 'member.role',
      topic,
      to,
      data: { groupId: member.groupId, userId: member.userId, role: member.role },
    })
  }
  if (change.fields.includes('deliveredSeq') || change.fields.includes('readSeq')) {
    const { groupId, userId, deliveredSeq, readSeq } = member
    events.push({ type: 'receipt', topic, to, data: { groupId, userId, deliveredSeq, readSeq } })
  }
  return events
}

async function groupEvents(change: Change, repos: Repositories): Promise<ChatEvent[]> {
  if (change.op !== 'update') return []
  const group = record<Group>(change.doc)
  const topic = groupTopic(group.id)
  const to = await memberIds(repos, group.id)
  if (change.fields.includes('deletedAt')) {
    return [{ type: 'group.deleted', topic, to, data: { groupId: group.id } }]
  }
  if (!change.fields.includes('name') && !change.fields.includes('description')) return []
  return [{ type: 'group.updated', topic, to, data: group }]
}

async function notificationEvents(change: Change, repos: Repositories): Promise<ChatEvent[]> {
  if (change.op === 'delete') {
    const [userId, id] = splitKey(change.id)
    const unread = await repos.notifications.unread(userId)
    return [{ type: 'notification.deleted', topic: userTopic(userId), to: [userId], data: { id, unread } }]
  }
  const notification = record<Notification>(change.doc)
  const { userId } = notification
  const topic = userTopic(userId)
  // Counted when mapped: the last event of a burst always carries the final count.
  const unread = await repos.notifications.unread(userId)
  if (change.op === 'insert') return [{ type: 'notification.new', topic, to: [userId], data: { notification, unread } }]
  if (notification.readAt === undefined || !change.fields.includes('readAt')) return []
  return [
    {
      type: 'notification.read',
      topic,
      to: [userId],
      data: { id: notification.id, readAt: notification.readAt, unread },
    },
  ]
}
