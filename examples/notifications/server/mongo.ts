/**
 * MongoDB mode (`MONGODB_URI`, a replica set): the store on MongoDB, a durable log
 * (`mongoLog`), and the events from a change stream on inserts into `notifications`
 * whose resume token is kept in MongoDB (`mongoTokenStore`). A notification inserted by
 * anyone (this app, a script, another service) reaches its users' bells, also when it was
 * inserted while this server was down: the stream resumes after the last change it logged.
 * @module
 */
import type { Log, Source } from '@rt/server'
import { mongoChangeStream, mongoLog, mongoTokenStore } from '@rt/server/mongo'
import { type Document, type Filter, MongoClient, ObjectId } from 'mongodb'
import type { Inbox, NotificationDoc, NotificationEvents, User } from '../shared/types.js'
import { eventsOf } from './events.js'
import { readKey, type Store } from './repos/types.js'
import { storedNotification } from './validate.js'

type Stored<T> = T & { _id: string }

interface ReadMark {
  _id: string
  userId: string
  id: string
  at: number
}

export interface MongoMode {
  readonly store: Store
  readonly log: Log
  /**
   * The change stream on inserts into `notifications`; attach it with `hub.attach`.
   * Documents that are not valid notifications are skipped and reported to `onError`.
   */
  source(store: Store, onError: (error: unknown) => void): Source<NotificationEvents>
  close(): Promise<void>
}

function strip<T>(doc: Document | null): T | null {
  if (doc === null) return null
  const { _id, ...rest } = doc
  return rest as T
}

const forUser = (user: User): Filter<NotificationRecord> => ({
  $or: [{ 'to.userId': user.id }, { 'to.role': user.role }],
})

/** A document of `notifications`: ours have a string `_id`, other programs' may have an ObjectId. */
type NotificationRecord = Document & { _id: string | ObjectId }

/** A notification's id: its `id`, else its `_id` (documents other programs insert may have only that). */
const idOf = (doc: Document): string => (typeof doc.id === 'string' ? doc.id : String(doc._id))

/** The filter for the notification whose id (see `idOf`) is `id`. */
function byId(id: string): Filter<NotificationRecord> {
  const ids: Filter<NotificationRecord>[] = [{ id }, { _id: id }]
  if (/^[0-9a-f]{24}$/.test(id)) ids.push({ _id: new ObjectId(id) })
  return { $or: ids }
}

/** Stored documents as notifications; ones that are not valid notifications are left out. */
function notificationsOf(docs: Document[]): NotificationDoc[] {
  return docs.map((d) => storedNotification(d, 0)).filter((n) => n !== null)
}

/**
 * Change streams read the oplog, which only replica set members keep: say so at start,
 * with what to do, instead of failing on the first watch.
 */
async function checkReplicaSet(client: MongoClient): Promise<void> {
  const hello = await client.db('admin').command({ hello: 1 })
  if (hello.setName !== undefined || hello.msg === 'isdbgrid') return
  throw new Error(
    'MONGODB_URI points at a standalone MongoDB server, which has no change streams. ' +
      'Start mongod with --replSet rs0 and run rs.initiate() once in mongosh (a single-node replica set ' +
      'is enough), then connect with ?replicaSet=rs0.',
  )
}

export async function connectMongo(uri: string): Promise<MongoMode> {
  const client = new MongoClient(uri, { ignoreUndefined: true, serverSelectionTimeoutMS: 10_000 })
  await client.connect()
  try {
    await checkReplicaSet(client)
  } catch (error) {
    await client.close()
    throw error
  }
  const db = client.db(new URL(uri).pathname.slice(1) || 'rt_notifications')
  const users = db.collection<Stored<User>>('users')
  const notifications = db.collection<NotificationRecord>('notifications')
  const reads = db.collection<ReadMark>('reads')
  await Promise.all([
    notifications.createIndex({ 'to.userId': 1, createdAt: -1 }),
    notifications.createIndex({ 'to.role': 1, createdAt: -1 }),
    reads.createIndex({ userId: 1 }),
  ])
  const log = await mongoLog({ db, retention: { maxAgeMs: 24 * 3_600_000 } })
  const tokens = mongoTokenStore(db)

  const unread = async (user: User) => {
    const [all, read] = await Promise.all([
      notifications.countDocuments(forUser(user)),
      reads.countDocuments({ userId: user.id }),
    ])
    return Math.max(0, all - read)
  }

  const store: Store = {
    users: {
      async upsert(user) {
        await users.updateOne({ _id: user.id }, { $set: { ...user } }, { upsert: true })
      },
      get: async (id) => strip<User>(await users.findOne({ _id: id })),
      list: async () => (await users.find({}).sort({ _id: 1 }).toArray()).map((d) => strip<User>(d) as User),
      withRole: async (role) => (await users.find({ role }).toArray()).map((d) => strip<User>(d) as User),
    },
    notifications: {
      async insert(doc) {
        await notifications.insertOne({ _id: doc.id, ...doc })
      },
      visible: async (user, id) =>
        (await notifications.countDocuments({ $and: [byId(id), forUser(user)] }, { limit: 1 })) > 0,
      async inbox(user, limit): Promise<Inbox> {
        const docs = notificationsOf(
          await notifications.find(forUser(user)).sort({ createdAt: -1, _id: -1 }).limit(limit).toArray(),
        )
        const marks = await reads.find({ _id: { $in: docs.map((d) => readKey(user.id, d.id)) } }).toArray()
        const at = new Map(marks.map((m) => [m.id, m.at]))
        return { items: docs.map((d) => ({ ...d, readAt: at.get(d.id) })), unread: await unread(user) }
      },
      unread,
      recent: async (limit) =>
        notificationsOf(await notifications.find({}).sort({ createdAt: -1, _id: -1 }).limit(limit).toArray()),
    },
    reads: {
      async mark(userId, ids, at) {
        const marked: string[] = []
        for (const id of ids) {
          const result = await reads.updateOne(
            { _id: readKey(userId, id) },
            { $setOnInsert: { userId, id, at } },
            { upsert: true },
          )
          if (result.upsertedCount === 1) marked.push(id)
        }
        return marked
      },
      async markAll(user, at) {
        const docs = await notifications
          .find({ $and: [forUser(user), { createdAt: { $lte: at } }] }, { projection: { id: 1 } })
          .toArray()
        if (docs.length === 0) return
        await reads.bulkWrite(
          docs.map((d) => ({
            updateOne: {
              filter: { _id: readKey(user.id, idOf(d)) },
              update: { $setOnInsert: { userId: user.id, id: idOf(d), at } },
              upsert: true,
            },
          })),
        )
      },
    },
    async close() {},
  }

  return {
    store,
    log,
    source(store, onError) {
      return mongoChangeStream<NotificationEvents>({
        collection: notifications as never,
        name: 'notifications',
        // Inserts only: a notification is delivered once, when it is created.
        pipeline: [{ $match: { operationType: 'insert' } }],
        // The position lives in MongoDB beside the log: a restarted server resumes after the
        // last change it logged, so inserts made while it was down are delivered, once.
        tokens,
        map: async (change) => {
          if (change.operationType !== 'insert') return null
          const time = change.wallTime instanceof Date ? change.wallTime.getTime() : Date.now()
          const doc = storedNotification(change.fullDocument as Document, time)
          if (doc !== null) return eventsOf(doc, store)
          onError(
            new Error(
              `skipped a document of notifications that is not a valid notification (_id ${String(change.documentKey._id).slice(0, 64)})`,
            ),
          )
          return null
        },
        maxAwaitTimeMS: 500,
      }) as Source<NotificationEvents>
    },
    close: () => client.close(),
  }
}
