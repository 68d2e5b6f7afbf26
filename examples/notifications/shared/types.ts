/**
 * The notification service's records and realtime events, shared by the server and the UI.
 * @module
 */

export type Role = 'admin' | 'engineering' | 'support'

export const ROLES: readonly Role[] = ['admin', 'engineering', 'support']

export interface User {
  readonly id: string
  readonly name: string
  readonly role: Role
}

export type Level = 'info' | 'success' | 'warning' | 'critical'

export const LEVELS: readonly Level[] = ['info', 'success', 'warning', 'critical']

/** Who a notification is for: one user, or every user with a role. */
export type Target = { readonly userId: string } | { readonly role: Role }

/**
 * A document of the `notifications` collection, as an admin (or any other program)
 * inserts it. One document per target: a role's notification is stored once and fanned
 * out to its users when it is delivered.
 */
export interface NotificationDoc {
  readonly id: string
  readonly title: string
  readonly body: string
  readonly level: Level
  readonly to: Target
  /** Who sent it (a user id, or the name of a script). */
  readonly from: string
  readonly createdAt: number
}

/** A notification as one user sees it: with their own read mark. */
export interface Notification extends NotificationDoc {
  readonly readAt?: number | undefined
}

/** The bell of one user: the newest notifications and how many are unread in all. */
export interface Inbox {
  readonly items: readonly Notification[]
  readonly unread: number
}

/** A snapshot for live state: the data, and the log position it reflects. */
export interface Snapshot<T> {
  readonly data: T
  /** `hub.head()`, read before the data. */
  readonly cursor: string
}

/** Every realtime event of the app; all of them on the user's own topic, `user:<id>`. */
export type NotificationEvents = {
  /** A notification reached this user; `unread` is their count when it was mapped. */
  'notification.new': { readonly notification: Notification; readonly unread: number }
  /** The user read some notifications (`ids`), or all of them up to `readAt` (`all`). */
  'notification.read': {
    readonly ids: readonly string[]
    readonly all: boolean
    readonly readAt: number
    readonly unread: number
  }
}

export const userTopic = (userId: string): string => `user:${userId}`

/** How many notifications the bell holds. */
export const INBOX_SIZE = 50
