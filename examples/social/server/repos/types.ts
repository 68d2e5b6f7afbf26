/**
 * The storage contract of the feed: one interface per collection, implemented in memory
 * (the default) and on MongoDB (`MONGODB_URI`).
 * @module
 */
import type { Comment, Post, Profile } from '../../shared/types.js'

export type Collection = 'users' | 'follows' | 'posts' | 'comments' | 'likes' | 'votes'

/**
 * A write as a change stream reports it. The in-memory store records these itself; on
 * MongoDB they come from the change stream. One mapper turns both into events.
 */
export type Change =
  | { readonly op: 'insert' | 'update'; readonly collection: Collection; readonly doc: Record<string, unknown> }
  | { readonly op: 'delete'; readonly collection: Collection; readonly id: string }

/** A like, a vote and a follow are stored under `<a>|<b>`, so a delete still names both. */
export const pairKey = (a: string, b: string): string => `${a}|${b}`

export function splitKey(key: string): [string, string] {
  const at = key.indexOf('|')
  return [key.slice(0, at), key.slice(at + 1)]
}

export interface Vote {
  readonly postId: string
  readonly userId: string
  readonly option: number
}

export interface UserRepo {
  /** Inserts unless the id exists; resolves to the stored profile. */
  upsert(profile: Profile): Promise<Profile>
  get(id: string): Promise<Profile | null>
  /** The profiles of `ids` in one query, missing ones left out. */
  many(ids: readonly string[]): Promise<Profile[]>
  list(): Promise<Profile[]>
}

export interface FollowRepo {
  /** Resolves to `false` when `follower` already follows `followee`. */
  add(follower: string, followee: string, at: number): Promise<boolean>
  remove(follower: string, followee: string): Promise<boolean>
  followers(userId: string): Promise<string[]>
  following(userId: string): Promise<string[]>
  follows(follower: string, followee: string): Promise<boolean>
}

export interface PostRepo {
  insert(post: Post): Promise<void>
  get(id: string): Promise<Post | null>
  /** The newest `limit` posts of these authors, newest first. */
  byAuthors(authorIds: readonly string[], limit: number): Promise<Post[]>
}

export interface CommentRepo {
  insert(comment: Comment): Promise<void>
  /** Oldest first. */
  ofPost(postId: string): Promise<Comment[]>
}

export interface LikeRepo {
  /** Resolves to `false` when the user already liked the post. */
  add(postId: string, userId: string, at: number): Promise<boolean>
  remove(postId: string, userId: string): Promise<boolean>
  count(postId: string): Promise<number>
  has(postId: string, userId: string): Promise<boolean>
}

export interface VoteRepo {
  /** Sets (or changes) the user's vote. */
  set(vote: Vote): Promise<void>
  get(postId: string, userId: string): Promise<Vote | null>
  /** Votes per option, for `options` options. */
  counts(postId: string, options: number): Promise<number[]>
}

export interface Repositories {
  readonly users: UserRepo
  readonly follows: FollowRepo
  readonly posts: PostRepo
  readonly comments: CommentRepo
  readonly likes: LikeRepo
  readonly votes: VoteRepo
  close(): Promise<void>
}

let lastId = ''

/** Time-ordered ids, each greater than the previous one of this process. */
export function newId(now: number = Date.now()): string {
  const random = crypto.getRandomValues(new Uint32Array(1))[0] as number
  const id = `${now.toString(36).padStart(9, '0')}${random.toString(36).padStart(7, '0')}`
  lastId = id > lastId ? id : bump(lastId)
  return lastId
}

function bump(id: string): string {
  const digits = '0123456789abcdefghijklmnopqrstuvwxyz'
  const chars = [...id]
  for (let i = chars.length - 1; i >= 0; i--) {
    const next = digits.indexOf(chars[i] as string) + 1
    if (next < digits.length) {
      chars[i] = digits[next] as string
      return chars.join('')
    }
    chars[i] = '0'
  }
  return `${id}0`
}
