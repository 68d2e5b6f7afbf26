/**
 * The storage contract: users, the `notifications` collection admins insert into, and
 * each user's read marks. Implemented in memory (the default) and on MongoDB (`MONGODB_URI`).
 * @module
 */
import type { Inbox, NotificationDoc, Role, User } from '../../shared/types.js'

export interface UserRepo {
  upsert(user: User): Promise<void>
  get(id: string): Promise<User | null>
  list(): Promise<User[]>
  withRole(role: Role): Promise<User[]>
}

export interface NotificationRepo {
  insert(doc: NotificationDoc): Promise<void>
  /** Whether `user` is a recipient of notification `id`. */
  visible(user: User, id: string): Promise<boolean>
  /** The newest `limit` notifications for `user` (theirs and their role's), with their read marks. */
  inbox(user: User, limit: number): Promise<Inbox>
  unread(user: User): Promise<number>
  /** The newest `limit` documents, whoever they are for (the admin's "sent" list). */
  recent(limit: number): Promise<NotificationDoc[]>
}

export interface ReadRepo {
  /** Marks `ids` read for `userId`; resolves to the ids that were unread. */
  mark(userId: string, ids: readonly string[], at: number): Promise<string[]>
  /** Marks every notification of `user` created up to `at` read. */
  markAll(user: User, at: number): Promise<void>
}

export interface Store {
  readonly users: UserRepo
  readonly notifications: NotificationRepo
  readonly reads: ReadRepo
  /**
   * In-memory store only: every inserted notification, in order. On MongoDB the change
   * stream reports inserts, including those of other programs.
   */
  readonly onInsert?: (listener: (doc: NotificationDoc) => void) => () => void
  close(): Promise<void>
}

let lastId = ''

/**
 * Time-ordered ids: sorting them sorts by creation, and each id is greater than the
 * previous one of this process (two in one millisecond still order).
 */
export function newId(now: number = Date.now()): string {
  const random = crypto.getRandomValues(new Uint32Array(1))
  const id = `${now.toString(36).padStart(9, '0')}${(random[0] as number).toString(36).padStart(7, '0')}`
  lastId = id > lastId ? id : successor(lastId)
  return lastId
}

function successor(id: string): string {
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

/** Whether a notification is addressed to `user`. */
export function isFor(doc: NotificationDoc, user: User): boolean {
  return 'userId' in doc.to ? doc.to.userId === user.id : doc.to.role === user.role
}

/** The key a read mark is stored under. */
export const readKey = (userId: string, id: string): string => `${userId}|${id}`
