/**
 * The social feed's records and its realtime events, shared by the server and the UI.
 * @module
 */

/** A user's public profile: what events carry about an author, a liker or a follower. */
export interface Profile {
  readonly id: string
  readonly name: string
  readonly handle: string
  readonly bio: string
  /** Admins see the admin page and may broadcast. */
  readonly admin: boolean
}

export interface Poll {
  readonly question: string
  /** Two to four options, in order; votes name an option by its index. */
  readonly options: readonly string[]
}

export interface Post {
  readonly id: string
  readonly authorId: string
  readonly text: string
  readonly createdAt: number
  readonly poll?: Poll | undefined
}

export interface Comment {
  readonly id: string
  readonly postId: string
  readonly authorId: string
  readonly text: string
  readonly createdAt: number
}

/** Votes per option of a post's poll; percentages are computed from these. */
export interface PollResults {
  readonly postId: string
  readonly counts: readonly number[]
  readonly total: number
}

/** A post as a reader sees it: the author's profile and the counts. */
export interface PostView {
  readonly post: Post
  readonly author: Profile
  readonly likes: number
  readonly liked: boolean
  readonly comments: readonly CommentView[]
  readonly results: PollResults | null
  /** The reader's vote, an option index. */
  readonly myVote: number | null
}

export interface CommentView {
  readonly comment: Comment
  readonly author: Profile
}

export type NotificationKind = 'like' | 'comment' | 'follow'

/** Made from a change as it happens; not stored. */
export interface Notification {
  readonly id: string
  readonly kind: NotificationKind
  readonly actor: Profile
  readonly postId?: string | undefined
  readonly text: string
  readonly at: number
}

/** A snapshot for live state: the data, and the log position it reflects. */
export interface Snapshot<T> {
  readonly data: T
  /** `hub.head()`, read before the data. */
  readonly cursor: string
}

export type SourceState = 'starting' | 'running' | 'standby' | 'stopped' | 'failed'

/** The change source as the admin page shows it. */
export interface SourceReport {
  readonly name: string
  readonly mode: 'memory' | 'mongodb'
  readonly state: SourceState
  readonly lagMs: number | null
  readonly lastEventAt: number | null
  readonly error: string | null
  /** The states it went through, oldest first (the last 50). */
  readonly history: readonly { readonly state: SourceState; readonly at: number }[]
  readonly connections: number
  readonly published: number
}

export interface Broadcast {
  readonly id: string
  readonly text: string
  readonly from: Profile
  readonly at: number
}

/**
 * Every realtime event of the feed. `feed` carries new posts (to the author's followers)
 * and broadcasts (to everyone); `post:<id>` what viewers of a post see; `user:<id>` a
 * user's notifications; `admin` the source's state.
 */
export type SocialEvents = {
  'post.new': PostView
  'post.likes': { readonly postId: string; readonly likes: number }
  'comment.new': CommentView
  'poll.results': PollResults
  notification: Notification
  broadcast: Broadcast
  'source.state': SourceReport
}

export const FEED = 'feed'
export const ADMIN = 'admin'
export const userTopic = (userId: string): string => `user:${userId}`
export const postTopic = (postId: string): string => `post:${postId}`

/** Whole percentages of a poll's counts (0 when nobody voted). */
export function percentages(results: Pick<PollResults, 'counts' | 'total'>): number[] {
  return results.counts.map((count) => (results.total === 0 ? 0 : Math.round((count * 100) / results.total)))
}
