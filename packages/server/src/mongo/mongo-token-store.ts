/**
 * A token store in a MongoDB collection: one document per source, holding its checkpoint
 * and its lease.
 * @module
 */
import type { Db, Document } from 'mongodb'
import { isDuplicateKey } from './errors.js'
import { realTimers } from './timers.js'
import type { Checkpoint, ResumeToken, TokenStore } from './token-store.js'

/** Options of {@link mongoTokenStore}. */
export interface MongoTokenStoreOptions {
  /** The collection, created on first write. @default 'rt_tokens' */
  collection?: string
  /** Clock for lease expiry. @default Date.now */
  now?: () => number
}

interface TokenDocument {
  _id: string
  token?: ResumeToken
  changeAt?: Date
  topics?: string[]
  savedAt?: Date
  lease?: { holder: string; expiresAt: Date }
}

/**
 * Keeps change stream checkpoints (and leases) in `db.collection(collection)`, one
 * document per source name: `{ _id: name, token, changeAt, topics, savedAt, lease }`.
 * It may live in the watched database or any other: a database- or cluster-wide stream
 * leaves its collection out.
 *
 * @example
 * ```ts
 * const tokens = mongoTokenStore(client.db('app'), { collection: 'rt_tokens' })
 * hub.attach(mongoChangeStream({ collection: posts, tokens, map }))
 * ```
 */
export function mongoTokenStore(db: Db, options: MongoTokenStoreOptions = {}): TokenStore {
  const collectionName = options.collection ?? 'rt_tokens'
  const collection = db.collection<TokenDocument>(collectionName)
  const now = options.now ?? realTimers.now

  async function take(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const at = now()
    try {
      // Matches when the lease is free, expired or ours; otherwise the upsert collides
      // with the existing document and the duplicate key error means "held elsewhere".
      await collection.updateOne(
        {
          _id: name,
          $or: [
            { lease: { $exists: false } },
            { 'lease.holder': holder },
            { 'lease.expiresAt': { $lte: new Date(at) } },
          ],
        },
        { $set: { lease: { holder, expiresAt: new Date(at + ttlMs) } } },
        { upsert: true },
      )
      return true
    } catch (error) {
      if (isDuplicateKey(error)) return false
      throw error
    }
  }

  return {
    collections: [`${db.databaseName}.${collectionName}`],
    async load(name) {
      const doc = await collection.findOne({ _id: name })
      if (doc?.token == null) return null
      return {
        token: doc.token,
        changeAt: doc.changeAt instanceof Date ? doc.changeAt.getTime() : undefined,
        topics: Array.isArray(doc.topics) ? doc.topics : undefined,
      }
    },

    async save(name: string, checkpoint: Checkpoint) {
      const set: Document = { token: checkpoint.token, savedAt: new Date(now()) }
      if (checkpoint.topics !== undefined) set.topics = [...checkpoint.topics]
      const update: Document = { $set: set }
      if (checkpoint.changeAt === undefined) update.$unset = { changeAt: '' }
      else set.changeAt = new Date(checkpoint.changeAt)
      await collection.updateOne({ _id: name }, update, { upsert: true })
    },

    async clear(name) {
      await collection.updateOne({ _id: name }, { $unset: { token: '', changeAt: '', topics: '' } })
    },

    lease: {
      acquire: take,
      renew: take,
      async release(name, holder) {
        await collection.updateOne({ _id: name, 'lease.holder': holder }, { $unset: { lease: '' } })
      },
    },
  }
}
