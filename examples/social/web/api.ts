/**
 * The feed's REST API, as the UI calls it. Cookies carry the session.
 * @module
 */
import type { Broadcast, Poll, Post, PostView, Profile, Snapshot, SourceReport } from '../shared/types.js'

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`/api${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (res.status === 204) return undefined as T
  const json = (await res.json().catch(() => ({}))) as { error?: { message?: string } }
  if (!res.ok) throw new ApiError(res.status, json.error?.message ?? `request failed (${res.status})`)
  return json as T
}

export interface PersonView {
  readonly profile: Profile
  readonly following: boolean
  readonly followers: number
}

export const api = {
  me: () => call<{ user: Profile }>('GET', '/me'),
  users: () => call<{ users: Profile[] }>('GET', '/users'),
  login: (name: string) => call<{ user: Profile }>('POST', '/login', { name }),
  logout: () => call<void>('POST', '/logout'),
  feed: () => call<Snapshot<PostView[]>>('GET', '/feed'),
  createPost: (text: string, poll?: Poll) => call<{ post: Post }>('POST', '/posts', { text, poll }),
  like: (postId: string) => call<void>('POST', `/posts/${postId}/like`),
  unlike: (postId: string) => call<void>('DELETE', `/posts/${postId}/like`),
  comment: (postId: string, text: string) => call<void>('POST', `/posts/${postId}/comments`, { text }),
  vote: (postId: string, option: number) => call<void>('POST', `/posts/${postId}/vote`, { option }),
  people: () => call<{ people: PersonView[] }>('GET', '/people'),
  follow: (userId: string) => call<void>('POST', `/people/${userId}/follow`),
  unfollow: (userId: string) => call<void>('DELETE', `/people/${userId}/follow`),
  adminStatus: () => call<Snapshot<SourceReport>>('GET', '/admin/status'),
  stopSource: () => call<{ source: SourceReport }>('POST', '/admin/source/stop'),
  startSource: () => call<{ source: SourceReport }>('POST', '/admin/source/start'),
  broadcast: (text: string) => call<{ broadcast: Broadcast }>('POST', '/admin/broadcast', { text }),
}
