/**
 * MongoDB mode (`MONGODB_URI`, a replica set): the same repositories on MongoDB, and the
 * events from one change stream over the database's posts, comments, likes, votes and
 * follows instead of from the app. Whatever writes to them (this server, another one, a
 * script) reaches the browsers. Its position is kept in a token store (`rt_tokens`), so a
 * stream stopped by the admin and started again resumes where it stopped.
 * @module
 */
import type { Source } from '@rt/server'
import { mongoChangeStream, mongoTokenStore } from '@rt/server/mongo'
import { type ChangeStreamDocument, type Document, MongoClient } from 'mongodb'
import type { Comment, Post, Profile, SocialEvents } from '../shared/types.js'
import { eventsOf, type MapperContext } from './events.js'
import { type Change, type Collection, pairKey, type Repositories, type Vote } from './repos/types.js'

/** A record stored under its key. */
type Stored<T> = T & { _id: string }

export const WATCHED: readonly Collection[] = ['posts', 'comments', 'likes', 'votes', 'follows']

/**
 * The change stream's pipeline: only the collections the feed maps, only the operations
 * it maps, so the server filters and the app never reads the rest.
 */
export const PIPELINE: Document[] = [
  { $match: { 'ns.coll': { $in: [...WATCHED] }, operationType: { $in: ['insert', 'update', 'replace', 'delete'] } } },
]

function strip<T>(doc: Document | null): T | null {
  if (doc === null) return null
  const { _id, ...rest } = doc
  return rest as T
}

export interface MongoSocial {
  readonly repos: Repositories
  /** A change stream for the hub, resuming from the token store; attach it with `hub.attach`. */
  source(name: string, mapper: MapperContext): Source<SocialEvents>
  close(): Promise<void>
}

export async function connectMongo(uri: string): Promise<MongoSocial> {
  const client = new MongoClient(uri, { ignoreUndefined: true, serverSelectionTimeoutMS: 10_000 })
  await client.connect()
  const db = client.db(new URL(uri).pathname.slice(1) || 'rt_social')
  const users = db.collection<Stored<Profile>>('users')
  const follows = db.collection<Stored<{ follower: string; followee: string; at: number }>>('follows')
  const posts = db.collection<Stored<Post>>('posts')
  const comments = db.collection<Stored<Comment>>('comments')
  const likes = db.collection<Stored<{ postId: string; userId: string; at: number }>>('likes')
  const votes = db.collection<Stored<Vote>>('votes')
  await Promise.all([
    follows.createIndex({ followee: 1 }),
    follows.createIndex({ follower: 1 }),
    posts.createIndex({ authorId: 1, createdAt: -1 }),
    comments.createIndex({ postId: 1, createdAt: 1 }),
    likes.createIndex({ postId: 1 }),
    votes.createIndex({ postId: 1 }),
  ])
  const tokens = mongoTokenStore(db)

  const repos: Repositories = {
    users: {
      async upsert(profile) {
        await users.updateOne({ _id: profile.id }, { $setOnInsert: { ...profile } }, { upsert: true })
        return strip<Profile>(await users.findOne({ _id: profile.id })) ?? profile
      },
      get: async (id) => strip<Profile>(await users.findOne({ _id: id })),
      // One query for any number of profiles: the mapper's batch loader calls this.
      many: async (ids) =>
        (await users.find({ _id: { $in: [...ids] } }).toArray()).map((d) => strip<Profile>(d) as Profile),
      list: async () => (await users.find({}).toArray()).map((d) => strip<Profile>(d) as Profile),
    },
    follows: {
      async add(follower, followee, at) {
        const res = await follows.updateOne(
          { _id: pairKey(follower, followee) },
          { $setOnInsert: { follower, followee, at } },
          { upsert: true },
        )
        return res.upsertedCount === 1
      },
      async remove(follower, followee) {
        return (await follows.deleteOne({ _id: pairKey(follower, followee) })).deletedCount === 1
      },
      followers: async (userId) => (await follows.find({ followee: userId }).toArray()).map((f) => f.follower),
      following: async (userId) => (await follows.find({ follower: userId }).toArray()).map((f) => f.followee),
      follows: async (follower, followee) => (await follows.countDocuments({ _id: pairKey(follower, followee) })) > 0,
    },
    posts: {
      async insert(post) {
        await posts.insertOne({ _id: post.id, ...post })
      },
      get: async (id) => strip<Post>(await posts.findOne({ _id: id })),
      async byAuthors(authorIds, limit) {
        const docs = await posts
          .find({ authorId: { $in: [...authorIds] } })
          .sort({ createdAt: -1, _id: -1 })
          .limit(limit)
          .toArray()
        return docs.map((d) => strip<Post>(d) as Post)
      },
    },
    comments: {
      async insert(comment) {
        await comments.insertOne({ _id: comment.id, ...comment })
      },
      ofPost: async (postId) =>
        (await comments.find({ postId }).sort({ createdAt: 1 }).toArray()).map((d) => strip<Comment>(d) as Comment),
    },
    likes: {
      async add(postId, userId, at) {
        const res = await likes.updateOne(
          { _id: pairKey(postId, userId) },
          { $setOnInsert: { postId, userId, at } },
          { upsert: true },
        )
        return res.upsertedCount === 1
      },
      async remove(postId, userId) {
        return (await likes.deleteOne({ _id: pairKey(postId, userId) })).deletedCount === 1
      },
      count: (postId) => likes.countDocuments({ postId }),
      has: async (postId, userId) => (await likes.countDocuments({ _id: pairKey(postId, userId) })) > 0,
    },
    votes: {
      async set(vote) {
        await votes.replaceOne({ _id: pairKey(vote.postId, vote.userId) }, { ...vote }, { upsert: true })
      },
      get: async (postId, userId) => strip<Vote>(await votes.findOne({ _id: pairKey(postId, userId) })),
      async counts(postId, options) {
        const counts = new Array<number>(options).fill(0)
        for (const vote of await votes.find({ postId }).toArray()) {
          if (vote.option >= 0 && vote.option < options) counts[vote.option] = (counts[vote.option] ?? 0) + 1
        }
        return counts
      },
    },
    async close() {},
  }

  return {
    repos,
    source(name, mapper) {
      return mongoChangeStream<SocialEvents>({
        db,
        name,
        pipeline: PIPELINE,
        // Vote changes carry the whole vote (replaceOne), likes and follows their key.
        fullDocument: 'updateLookup',
        // The same store for every source made here: a restarted one resumes after the
        // last change its predecessor logged (keys from resume tokens drop repeats).
        tokens,
        map: async (change) => {
          const own = changeOf(change)
          return own === null ? null : eventsOf(own, mapper)
        },
        maxAwaitTimeMS: 500,
      }) as Source<SocialEvents>
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
    case 'replace':
      return change.fullDocument == null ? null : { op: 'update', collection, doc: change.fullDocument }
    case 'delete':
      return { op: 'delete', collection, id: String(change.documentKey._id) }
    default:
      return null
  }
}
