/**
 * The chat's REST API, as the UI calls it. Cookies carry the session.
 * @module
 */
import type { Group, GroupSummary, Message, MessagePage, NotificationPage, Snapshot, User } from '../shared/types.js'

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

export const api = {
  me: () => call<{ user: User }>('GET', '/me'),
  users: () => call<{ users: User[] }>('GET', '/users'),
  login: (name: string) => call<{ user: User }>('POST', '/login', { name }),
  logout: () => call<void>('POST', '/logout'),
  groups: () => call<Snapshot<GroupSummary[]>>('GET', '/groups'),
  createGroup: (name: string, members: string[]) => call<{ group: Group }>('POST', '/groups', { name, members }),
  messages: (groupId: string, before?: number) =>
    call<Snapshot<MessagePage>>('GET', `/groups/${groupId}/messages${before === undefined ? '' : `?before=${before}`}`),
  send: (groupId: string, text: string) => call<{ message: Message }>('POST', `/groups/${groupId}/messages`, { text }),
  deleteMessage: (groupId: string, id: string) => call<void>('DELETE', `/groups/${groupId}/messages/${id}`),
  read: (groupId: string, seq: number) => call<void>('POST', `/groups/${groupId}/read`, { seq }),
  typing: (groupId: string) => call<void>('POST', `/groups/${groupId}/typing`),
  addMember: (groupId: string, userId: string) => call<void>('POST', `/groups/${groupId}/members`, { userId }),
  leave: (groupId: string, userId: string) => call<void>('DELETE', `/groups/${groupId}/members/${userId}`),
  notifications: (before?: string) =>
    call<Snapshot<NotificationPage>>('GET', `/notifications${before === undefined ? '' : `?before=${before}`}`),
  readNotification: (id: string) => call<void>('POST', `/notifications/${id}/read`),
  readAll: () => call<{ read: number }>('POST', '/notifications/read-all'),
  deleteNotification: (id: string) => call<void>('DELETE', `/notifications/${id}`),
}
