/**
 * Turns a stored change into the events it means, for both stores: the in-memory store's
 * recorded changes and MongoDB's change stream go through this one function. This is the
 * change stream's `map`: it computes who an event goes to (`to`: the author's followers)
 * and enriches it with profiles, batch-loaded.
 * @module
 */
import type { PublishInput } from '@rt/server'
import {
  type Comment,
  FEED,
  type Notification,
  type Post,
  postTopic,
  type SocialEvents,
  userTopic,
} from '../shared/types.js'
import type { ProfileLoader } from './profiles.js'
import { type Change, type Repositories, splitKey, type Vote } from './repos/types.js'

export type SocialEvent = PublishInput<SocialEvents>

export interface MapperContext {
  readonly repos: Repositories
  readonly profiles: ProfileLoader
}

/** Strips the store's own `_id` from a document. */
function record<T>(doc: Record<string, unknown>): T {
  const { _id, ...rest } = doc
  return rest as T
}

/** Post text shortened for a notification line. */
function excerpt(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}…` : text
}

function notify(userId: string, notification: Notification): SocialEvent {
  return { type: 'notification', topic: userTopic(userId), to: [userId], data: notification }
}

/** The events of one change, in the order they should be logged. */
export async function eventsOf(change: Change, ctx: MapperContext): Promise<SocialEvent[]> {
  switch (change.collection) {
    case 'posts':
      return change.op === 'insert' ? postEvents(record<Post>(change.doc), ctx) : []
    case 'comments':
      return change.op === 'insert' ? commentEvents(record<Comment>(change.doc), ctx) : []
    case 'likes':
      return likeEvents(change, ctx)
    case 'votes':
      return change.op === 'delete' ? [] : voteEvents(record<Vote>(change.doc), ctx)
    case 'follows':
      return change.op === 'insert' ? followEvents(change.doc, ctx) : []
    case 'users':
      return []
  }
}

/** A new post goes to the author's followers (and the author's own other tabs) only. */
async function postEvents(post: Post, { repos, profiles }: MapperContext): Promise<SocialEvent[]> {
  const [author, followers] = await Promise.all([profiles.load(post.authorId), repos.follows.followers(post.authorId)])
  const results = post.poll === undefined ? null : { postId: post.id, counts: post.poll.options.map(() => 0), total: 0 }
  return [
    {
      type: 'post.new',
      topic: FEED,
      to: [post.authorId, ...followers],
      data: { post, author, likes: 0, liked: false, comments: [], results, myVote: null },
    },
  ]
}

async function commentEvents(comment: Comment, { repos, profiles }: MapperContext): Promise<SocialEvent[]> {
  const post = await repos.posts.get(comment.postId)
  if (post === null) return []
  const author = await profiles.load(comment.authorId)
  const events: SocialEvent[] = [{ type: 'comment.new', topic: postTopic(post.id), data: { comment, author } }]
  if (post.authorId !== comment.authorId) {
    events.push(
      notify(post.authorId, {
        id: `comment:${comment.id}`,
        kind: 'comment',
        actor: author,
        postId: post.id,
        text: `${author.name} commented: “${excerpt(comment.text)}”`,
        at: comment.createdAt,
      }),
    )
  }
  return events
}

/** Everyone viewing the post sees the count; the post's author gets a notification. */
async function likeEvents(change: Change, { repos, profiles }: MapperContext): Promise<SocialEvent[]> {
  const [postId, userId] = splitKey(change.op === 'delete' ? change.id : String(change.doc._id))
  const [post, likes] = await Promise.all([repos.posts.get(postId), repos.likes.count(postId)])
  if (post === null) return []
  const events: SocialEvent[] = [{ type: 'post.likes', topic: postTopic(postId), data: { postId, likes } }]
  if (change.op === 'insert' && post.authorId !== userId) {
    const liker = await profiles.load(userId)
    const at = typeof change.doc.at === 'number' ? change.doc.at : Date.now()
    events.push(
      notify(post.authorId, {
        id: `like:${postId}:${userId}:${at}`,
        kind: 'like',
        actor: liker,
        postId,
        text: `${liker.name} liked your post “${excerpt(post.text)}”`,
        at,
      }),
    )
  }
  return events
}

/** Fresh results to everyone viewing the post: counted when mapped, so the last event of a burst is exact. */
async function voteEvents(vote: Vote, { repos }: MapperContext): Promise<SocialEvent[]> {
  const post = await repos.posts.get(vote.postId)
  if (post?.poll === undefined) return []
  const counts = await repos.votes.counts(post.id, post.poll.options.length)
  const total = counts.reduce((sum, n) => sum + n, 0)
  return [{ type: 'poll.results', topic: postTopic(post.id), data: { postId: post.id, counts, total } }]
}

async function followEvents(doc: Record<string, unknown>, { profiles }: MapperContext): Promise<SocialEvent[]> {
  const key = String(doc._id)
  const [follower, followee] = splitKey(key)
  const actor = await profiles.load(follower)
  return [
    notify(followee, {
      id: `follow:${key}`,
      kind: 'follow',
      actor,
      text: `${actor.name} started following you`,
      at: typeof doc.at === 'number' ? doc.at : Date.now(),
    }),
  ]
}
