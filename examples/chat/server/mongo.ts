/**
 * MongoDB mode (`MONGODB_URI`, a replica set): the same repositories on MongoDB, and the
 * events from a change stream over the database instead of from the app. Whatever writes
 * to these collections (this server, another one, a script, a migration) reaches the UI.
 * @module
 */
import type { Source } from '@rt/server'
import { mongoChangeStream } from '@rt/server/mongo'
import {
  type ChangeStreamDocument,
  type Document,
  type Filter,
  MongoClient,
  type Collection as MongoCollection,
} from 'mongodb'
import type { ChatEvents, Group, Member, Message, Notification, User } from '../shared/types.js'
import { eventsOf } from './events.js'
import { type Change, type Collection, memberKey, newId, notificationKey, type Repositories } from './repos/types.js'

/** A record stored under its key. */
type Stored<T> = T & { _id: string }

const WATCHED: readonly Collection[] = ['groups', 'members', 'messages', 'notifications']

function strip<T>(doc: Document | null): T | null {
  if (doc === null) return null
  const { _id, ...rest } = doc
  return rest as T
}

export interface MongoChat {
  readonly repos: Repositories
  /** The change stream that feeds the hub; attach it with `hub.attach`. */
  source(repos: Repositories): Source<ChatEvents>
  close(): Promise<void>
}

export async function connectMongo(uri: string): Promise<MongoChat> {
  const client = new MongoClient(uri, { ignoreUndefined: true, serverSelectionTimeoutMS: 10_000 })
  await client.connect()
  const db = client.db(new URL(uri).pathname.slice(1) || 'rt_chat')
  const users = db.collection<Stored<User>>('users')
  const groups = db.collection<Stored<Group>>('groups')
  const members = db.collection<Stored<Member>>('members')
  const messages = db.collection<Stored<Message>>('messages')
  const counters = db.collection<{ _id: string; seq: number }>('counters')
  const notifications = db.collection<Stored<Notification>>('notifications')
  await Promise.all([
    members.createIndex({ userId: 1 }),
    members.createIndex({ groupId: 1 }),
    messages.createIndex({ groupId: 1, seq: -1 }),
    notifications.createIndex({ userId: 1, id: -1 }),
  ])
  const all = async <T>(collection: MongoCollection<Stored<T>>, filter: Filter<Stored<T>>): Promise<T[]> =>
    (await collection.find(filter).toArray()).map((doc) => strip<T>(doc) as T)

  const repos: Repositories = {
    users: {
      async upsert(user) {
        await users.updateOne({ _id: user.id }, { $setOnInsert: { ...user } }, { upsert: true })
        return strip<User>(await users.findOne({ _id: user.id })) ?? user
      },
      get: async (id) => strip<User>(await users.findOne({ _id: id })),
      list: () => all(users, {}),
      many: (ids) => all(users, { _id: { $in: [...ids] } }),
    },
    groups: {
      async insert(group) {
        await groups.insertOne({ _id: group.id, ...group })
      },
      get: async (id) => strip<Group>(await groups.findOne({ _id: id })),
      async update(id, patch) {
        return strip<Group>(await groups.findOneAndUpdate({ _id: id }, { $set: patch }, { returnDocument: 'after' }))
      },
    },
    members: {
      async insert(member) {
        await members.insertOne({ _id: memberKey(member.groupId, member.userId), ...member })
      },
      get: async (groupId, userId) => strip<Member>(await members.findOne({ _id: memberKey(groupId, userId) })),
      list: (groupId) => all(members, { groupId }),
      listByUser: (userId) => all(members, { userId }),
      async remove(groupId, userId) {
        return (await members.deleteOne({ _id: memberKey(groupId, userId) })).deletedCount === 1
      },
      async setRole(groupId, userId, role) {
        const key = memberKey(groupId, userId)
        return strip<Member>(
          await members.findOneAndUpdate({ _id: key }, { $set: { role } }, { returnDocument: 'after' }),
        )
      },
      async advance(groupId, userId, to) {
        const max: Record<string, number> = {}
        const behind: Document[] = []
        if (to.deliveredSeq !== undefined) {
          max.deliveredSeq = to.deliveredSeq
          behind.push({ deliveredSeq: { $lt: to.deliveredSeq } })
        }
        if (to.readSeq !== undefined) {
          max.readSeq = to.readSeq
          behind.push({ readSeq: { $lt: to.readSeq } })
        }
        if (behind.length === 0) return null
        // Matches only when something moves, so a repeated ack writes (and emits) nothing.
        return strip<Member>(
          await members.findOneAndUpdate(
            { _id: memberKey(groupId, userId), $or: behind },
            { $max: max },
            { returnDocument: 'after' },
          ),
        )
      },
    },
    messages: {
      async insert(input) {
        const counter = await counters.findOneAndUpdate(
          { _id: input.groupId },
          { $inc: { seq: 1 } },
          { upsert: true, returnDocument: 'after' },
        )
        const message: Message = { ...input, id: newId(input.createdAt), seq: counter?.seq ?? 1 }
        await messages.insertOne({ _id: message.id, ...message })
        return message
      },
      get: async (groupId, id) => strip<Message>(await messages.findOne({ _id: id, groupId })),
      async page(groupId, limit, beforeSeq) {
        const filter = beforeSeq === undefined ? { groupId } : { groupId, seq: { $lt: beforeSeq } }
        const docs = await messages
          .find(filter)
          .sort({ seq: -1 })
          .limit(limit + 1)
          .toArray()
        const more = docs.length > limit
        return {
          messages: docs
            .slice(0, limit)
            .reverse()
            .map((d) => strip<Message>(d) as Message),
          more,
        }
      },
      lastSeq: async (groupId) => (await counters.findOne({ _id: groupId }))?.seq ?? 0,
      async markDeleted(groupId, id, at) {
        return strip<Message>(
          await messages.findOneAndUpdate(
            { _id: id, groupId, deletedAt: { $exists: false } },
            { $set: { text: '', deletedAt: at } },
            { returnDocument: 'after' },
          ),
        )
      },
    },
    notifications: {
      async insert(notification) {
        await notifications.insertOne({ _id: notificationKey(notification.userId, notification.id), ...notification })
      },
      get: async (userId, id) => strip<Notification>(await notifications.findOne({ _id: notificationKey(userId, id) })),
      async page(userId, limit, before) {
        const filter = before === undefined ? { userId } : { userId, id: { $lt: before } }
        const docs = await notifications
          .find(filter)
          .sort({ id: -1 })
          .limit(limit + 1)
          .toArray()
        return {
          items: docs.slice(0, limit).map((d) => strip<Notification>(d) as Notification),
          more: docs.length > limit,
        }
      },
      unread: (userId) => notifications.countDocuments({ userId, readAt: { $exists: false } }),
      async markRead(userId, id, at) {
        return strip<Notification>(
          await notifications.findOneAndUpdate(
            { _id: notificationKey(userId, id), readAt: { $exists: false } },
            { $set: { readAt: at } },
            { returnDocument: 'after' },
          ),
        )
      },
      async markAllRead(userId, at) {
        return (await notifications.updateMany({ userId, readAt: { $exists: false } }, { $set: { readAt: at } }))
          .modifiedCount
      },
      async remove(userId, id) {
        return (await notifications.deleteOne({ _id: notificationKey(userId, id) })).deletedCount === 1
      },
    },
    async close() {},
  }

  return {
    repos,
    source(repos) {
      return mongoChangeStream<ChatEvents>({
        db,
        name: 'chat',
        pipeline: [{ $match: { 'ns.coll': { $in: [...WATCHED] } } }],
        fullDocument: 'updateLookup',
        // The log is in memory: after a restart clients refetch (rt.reset), so the stream
        // starts from now rather than from a stored position (the default token store).
        map: async (change) => {
          const own = changeOf(change)
          return own === null ? null : eventsOf(own, repos)
        },
        maxAwaitTimeMS: 500,
      }) as Source<ChatEvents>
    },
    close: () => client.close(),
  }
}

/** A change stream document as the mapper's `Change`, or `null` for what it ignores. */
function changeOf(change: ChangeStreamDocument): Change | null {
  if (!('ns' in change) || change.ns === undefined || !('coll' in change.ns)) return null
  const collection = change.ns.coll as Collection
  if (!WATCHED.includes(collection)) return null
  switch (change.operationType) {
    case 'insert':
      return { op: 'insert', collection, doc: change.fullDocument }
    case 'update':
    case 'replace': {
      if (change.fullDocument === null || change.fullDocument === undefined) return null
      const fields =
        change.operationType === 'update'
          ? Object.keys(change.updateDescription.updatedFields ?? {})
          : Object.keys(change.fullDocument)
      return { op: 'update', collection, doc: change.fullDocument, fields }
    }
    case 'delete':
      return { op: 'delete', collection, id: String(change.documentKey._id) }
    default:
      return null
  }
}
