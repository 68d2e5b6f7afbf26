/**
 * The in-memory store: the default, lost on restart. Every write is recorded as a change
 * with a sequence number, the way a MongoDB oplog records it, so the same mapper and the
 * same stop / start / resume run in both modes (see `memory-source.ts`).
 * @module
 */
import type { Comment, Post, Profile } from '../../shared/types.js'
import { type Change, type Collection, pairKey, type Repositories, type Vote } from './types.js'

/** The recorded changes: a bounded, ordered history and a live feed. */
export interface ChangeFeed {
  /** Sequence number of the newest change (0 before any). */
  head(): number
  /** The changes after `seq`, oldest first; `null` when older ones were dropped already. */
  since(seq: number): { seq: number; change: Change }[] | null
  /** Calls `listener` after each change is recorded. */
  onChange(listener: () => void): () => void
}

export interface MemoryStore {
  readonly repos: Repositories
  readonly changes: ChangeFeed
}

const copy = <T>(value: T): T => structuredClone(value)

/** Changes kept for a stopped source to catch up on. */
const HISTORY = 10_000

export function memoryStore(): MemoryStore {
  const users = new Map<string, Profile>()
  const follows = new Map<string, { follower: string; followee: string; at: number }>()
  const posts = new Map<string, Post>()
  const comments = new Map<string, Comment[]>()
  const likes = new Map<string, { postId: string; userId: string; at: number }>()
  const votes = new Map<string, Vote>()
  const history: { seq: number; change: Change }[] = []
  const listeners = new Set<() => void>()
  let seq = 0

  const record = (change: Change) => {
    history.push({ seq: ++seq, change })
    if (history.length > HISTORY) history.splice(0, history.length - HISTORY)
    for (const listener of listeners) listener()
  }
  const inserted = (collection: Collection, _id: string, doc: object) =>
    record({ op: 'insert', collection, doc: copy({ _id, ...doc }) })

  const repos: Repositories = {
    users: {
      async upsert(profile) {
        const known = users.get(profile.id)
        if (known !== undefined) return copy(known)
        users.set(profile.id, copy(profile))
        inserted('users', profile.id, profile)
        return copy(profile)
      },
      get: async (id) => copy(users.get(id) ?? null),
      many: async (ids) => ids.flatMap((id) => (users.has(id) ? [copy(users.get(id) as Profile)] : [])),
      list: async () => [...users.values()].map(copy),
    },
    follows: {
      async add(follower, followee, at) {
        const key = pairKey(follower, followee)
        if (follows.has(key)) return false
        follows.set(key, { follower, followee, at })
        inserted('follows', key, { follower, followee, at })
        return true
      },
      async remove(follower, followee) {
        const key = pairKey(follower, followee)
        if (!follows.delete(key)) return false
        record({ op: 'delete', collection: 'follows', id: key })
        return true
      },
      followers: async (userId) => [...follows.values()].filter((f) => f.followee === userId).map((f) => f.follower),
      following: async (userId) => [...follows.values()].filter((f) => f.follower === userId).map((f) => f.followee),
      follows: async (follower, followee) => follows.has(pairKey(follower, followee)),
    },
    posts: {
      async insert(post) {
        posts.set(post.id, copy(post))
        inserted('posts', post.id, post)
      },
      get: async (id) => copy(posts.get(id) ?? null),
      async byAuthors(authorIds, limit) {
        const authors = new Set(authorIds)
        return [...posts.values()]
          .filter((p) => authors.has(p.authorId))
          .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
          .slice(0, limit)
          .map(copy)
      },
    },
    comments: {
      async insert(comment) {
        const list = comments.get(comment.postId) ?? []
        list.push(copy(comment))
        comments.set(comment.postId, list)
        inserted('comments', comment.id, comment)
      },
      ofPost: async (postId) => (comments.get(postId) ?? []).map(copy),
    },
    likes: {
      async add(postId, userId, at) {
        const key = pairKey(postId, userId)
        if (likes.has(key)) return false
        likes.set(key, { postId, userId, at })
        inserted('likes', key, { postId, userId, at })
        return true
      },
      async remove(postId, userId) {
        const key = pairKey(postId, userId)
        if (!likes.delete(key)) return false
        record({ op: 'delete', collection: 'likes', id: key })
        return true
      },
      count: async (postId) => [...likes.values()].filter((l) => l.postId === postId).length,
      has: async (postId, userId) => likes.has(pairKey(postId, userId)),
    },
    votes: {
      async set(vote) {
        const key = pairKey(vote.postId, vote.userId)
        const known = votes.has(key)
        votes.set(key, copy(vote))
        record({ op: known ? 'update' : 'insert', collection: 'votes', doc: copy({ _id: key, ...vote }) })
      },
      get: async (postId, userId) => copy(votes.get(pairKey(postId, userId)) ?? null),
      async counts(postId, options) {
        const counts = new Array<number>(options).fill(0)
        for (const vote of votes.values()) {
          if (vote.postId === postId && vote.option < options) counts[vote.option] = (counts[vote.option] ?? 0) + 1
        }
        return counts
      },
    },
    async close() {
      listeners.clear()
    },
  }

  return {
    repos,
    changes: {
      head: () => seq,
      since(after) {
        const first = history[0]
        if (first !== undefined && after < first.seq - 1) return null
        if (first === undefined && after < seq) return null
        return history.filter((entry) => entry.seq > after)
      },
      onChange(listener) {
        listeners.add(listener)
        return () => listeners.delete(listener)
      },
    },
  }
}
