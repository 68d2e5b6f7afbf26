/**
 * The feed's rules: who sees which post, what a post, a like, a comment, a vote and a
 * follow are. Talks to repositories only; it never publishes events itself, since every
 * write reaches the hub as a change (see `events.ts`).
 * @module
 */
import type { Poll, Post, PostView, Profile } from '../shared/types.js'
import { SocialError } from './errors.js'
import { newId, type Repositories } from './repos/types.js'
import { int, slug, text } from './validate.js'

export const LIMITS = {
  post: 500,
  comment: 300,
  question: 140,
  option: 60,
  options: 4,
  userName: 40,
  feed: 30,
  broadcast: 200,
  /** Accounts the dev login creates at most: a name nobody has past it is refused. */
  users: 1_000,
} as const

export interface PersonView {
  readonly profile: Profile
  readonly following: boolean
  readonly followers: number
}

export interface SocialService {
  readonly repos: Repositories
  login(name: unknown): Promise<Profile>
  /** The user for a session, recreated when the store forgot it (in-memory restart). */
  ensureUser(id: string, name: string): Promise<Profile>
  users(): Promise<Profile[]>
  /** The reader's home feed: their own posts and those of the people they follow, newest first. */
  feed(reader: string): Promise<PostView[]>
  /** Whether `reader` may see the post: its author, or one of the author's followers. */
  canSee(reader: string, postId: string): Promise<boolean>
  post(reader: string, postId: string): Promise<PostView>
  createPost(actor: string, input: { text: unknown; poll?: unknown }): Promise<Post>
  like(actor: string, postId: string): Promise<void>
  unlike(actor: string, postId: string): Promise<void>
  comment(actor: string, postId: string, body: unknown): Promise<void>
  vote(actor: string, postId: string, option: unknown): Promise<void>
  people(actor: string): Promise<PersonView[]>
  follow(actor: string, userId: string): Promise<void>
  unfollow(actor: string, userId: string): Promise<void>
}

function pollOf(value: unknown): Poll | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object') throw new SocialError('bad_request', 'poll must be an object')
  const { question, options } = value as { question?: unknown; options?: unknown }
  if (!Array.isArray(options) || options.length < 2 || options.length > LIMITS.options) {
    throw new SocialError('bad_request', `a poll needs 2 to ${LIMITS.options} options`)
  }
  return {
    question: text(question, 'poll question', 1, LIMITS.question),
    options: options.map((option, i) => text(option, `option ${i + 1}`, 1, LIMITS.option)),
  }
}

export interface SocialServiceOptions {
  readonly now?: () => number
  /** @default LIMITS.users */
  readonly maxUsers?: number
}

export function createSocialService(repos: Repositories, options: SocialServiceOptions = {}): SocialService {
  const { now = Date.now, maxUsers = LIMITS.users } = options
  async function visible(reader: string, postId: string): Promise<Post> {
    const post = await repos.posts.get(postId)
    const allowed = post !== null && (post.authorId === reader || (await repos.follows.follows(reader, post.authorId)))
    // The same answer for a missing post and a hidden one: a reader learns nothing.
    if (!allowed || post === null) throw new SocialError('forbidden', 'you cannot see this post')
    return post
  }

  async function view(reader: string, post: Post, authors: Map<string, Profile>): Promise<PostView> {
    const [likes, liked, comments, myVote, counts] = await Promise.all([
      repos.likes.count(post.id),
      repos.likes.has(post.id, reader),
      repos.comments.ofPost(post.id),
      repos.votes.get(post.id, reader),
      post.poll === undefined ? null : repos.votes.counts(post.id, post.poll.options.length),
    ])
    const commenters = new Map(
      (await repos.users.many([...new Set(comments.map((c) => c.authorId))])).map((p) => [p.id, p]),
    )
    const unknown = (id: string): Profile => ({ id, name: id, handle: id, bio: '', admin: false })
    return {
      post,
      author: authors.get(post.authorId) ?? unknown(post.authorId),
      likes,
      liked,
      comments: comments.map((comment) => ({
        comment,
        author: commenters.get(comment.authorId) ?? unknown(comment.authorId),
      })),
      results: counts === null ? null : { postId: post.id, counts, total: counts.reduce((sum, n) => sum + n, 0) },
      myVote: myVote?.option ?? null,
    }
  }

  async function views(reader: string, posts: Post[]): Promise<PostView[]> {
    const authors = new Map((await repos.users.many([...new Set(posts.map((p) => p.authorId))])).map((p) => [p.id, p]))
    return Promise.all(posts.map((post) => view(reader, post, authors)))
  }

  const service: SocialService = {
    repos,
    async login(name) {
      const display = text(name, 'name', 1, LIMITS.userName)
      // A seeded user by name or by id, else a new one.
      const lower = display.toLowerCase()
      const everyone = await repos.users.list()
      const known = everyone.find((p) => p.name.toLowerCase() === lower || p.id === lower)
      if (known !== undefined) return known
      // The dev login makes an account per new name: bounded, so a script cannot grow the store.
      if (everyone.length >= maxUsers) {
        throw new SocialError('forbidden', `this demo holds at most ${maxUsers} users: log in as one of them`)
      }
      const id = slug(display)
      return repos.users.upsert({ id, name: display, handle: id.replace(/-/g, ''), bio: '', admin: false })
    },
    async ensureUser(id, name) {
      return (await repos.users.get(id)) ?? repos.users.upsert({ id, name, handle: id, bio: '', admin: false })
    },
    users: () => repos.users.list(),
    async feed(reader) {
      const authors = [reader, ...(await repos.follows.following(reader))]
      return views(reader, await repos.posts.byAuthors(authors, LIMITS.feed))
    },
    async canSee(reader, postId) {
      try {
        await visible(reader, postId)
        return true
      } catch {
        return false
      }
    },
    async post(reader, postId) {
      const [one] = await views(reader, [await visible(reader, postId)])
      return one as PostView
    },
    async createPost(actor, input) {
      const post: Post = {
        id: newId(now()),
        authorId: actor,
        text: text(input.text, 'text', 1, LIMITS.post),
        createdAt: now(),
        poll: pollOf(input.poll),
      }
      if (post.poll === undefined) delete (post as { poll?: Poll }).poll
      await repos.posts.insert(post)
      return post
    },
    async like(actor, postId) {
      await visible(actor, postId)
      await repos.likes.add(postId, actor, now())
    },
    async unlike(actor, postId) {
      await visible(actor, postId)
      await repos.likes.remove(postId, actor)
    },
    async comment(actor, postId, body) {
      await visible(actor, postId)
      const createdAt = now()
      await repos.comments.insert({
        id: newId(createdAt),
        postId,
        authorId: actor,
        text: text(body, 'text', 1, LIMITS.comment),
        createdAt,
      })
    },
    async vote(actor, postId, option) {
      const post = await visible(actor, postId)
      if (post.poll === undefined) throw new SocialError('bad_request', 'this post has no poll')
      await repos.votes.set({ postId, userId: actor, option: int(option, 'option', 0, post.poll.options.length - 1) })
    },
    async people(actor) {
      const [everyone, following] = await Promise.all([repos.users.list(), repos.follows.following(actor)])
      const followed = new Set(following)
      return Promise.all(
        everyone
          .filter((p) => p.id !== actor)
          .map(async (profile) => ({
            profile,
            following: followed.has(profile.id),
            followers: (await repos.follows.followers(profile.id)).length,
          })),
      )
    },
    async follow(actor, userId) {
      if (userId === actor) throw new SocialError('bad_request', 'you cannot follow yourself')
      if ((await repos.users.get(userId)) === null) throw new SocialError('not_found', 'no such user')
      await repos.follows.add(actor, userId, now())
    },
    async unfollow(actor, userId) {
      await repos.follows.remove(actor, userId)
    },
  }
  return service
}
