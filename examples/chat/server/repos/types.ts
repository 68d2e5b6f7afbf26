/**
 * The storage contract of the chat: one interface per collection, implemented in memory
 * (the default) and on MongoDB (`MONGODB_URI`).
 * @module
 */
import type { Group, Member, Message, Notification, Role, User } from '../../shared/types.js'

/**
 * A write as a change stream reports it. The in-memory store emits these itself; on
 * MongoDB they come from the change stream. One mapper turns both into events.
 */
export type Change =
  | { readonly op: 'insert'; readonly collection: Collection; readonly doc: Record<string, unknown> }
  | {
      readonly op: 'update'
      readonly collection: Collection
      readonly doc: Record<string, unknown>
      /** The top-level fields the update set. */
      readonly fields: readonly string[]
    }
  | { readonly op: 'delete'; readonly collection: Collection; readonly id: string }

export type Collection = 'users' | 'groups' | 'members' | 'messages' | 'notifications'

export interface UserRepo {
  upsert(user: User): Promise<User>
  get(id: string): Promise<User | null>
  list(): Promise<User[]>
  many(ids: readonly string[]): Promise<User[]>
}

export interface GroupRepo {
  insert(group: Group): Promise<void>
  /** Deleted groups too; callers decide. */
  get(id: string): Promise<Group | null>
  update(id: string, patch: Partial<Pick<Group, 'name' | 'description' | 'deletedAt'>>): Promise<Group | null>
}

export interface MemberRepo {
  insert(member: Member): Promise<void>
  get(groupId: string, userId: string): Promise<Member | null>
  list(groupId: string): Promise<Member[]>
  listByUser(userId: string): Promise<Member[]>
  remove(groupId: string, userId: string): Promise<boolean>
  setRole(groupId: string, userId: string, role: Role): Promise<Member | null>
  /**
   * Moves receipts forward, never back; resolves to the member when anything moved,
   * `null` otherwise (so a repeated ack writes nothing).
   */
  advance(
    groupId: string,
    userId: string,
    to: { readonly deliveredSeq?: number; readonly readSeq?: number },
  ): Promise<Member | null>
}

export interface MessageRepo {
  /** Assigns the next sequence number of the group atomically. */
  insert(input: Omit<Message, 'id' | 'seq'>): Promise<Message>
  get(groupId: string, id: string): Promise<Message | null>
  /** Newest `limit` messages before `beforeSeq` (all when absent), oldest first. */
  page(groupId: string, limit: number, beforeSeq?: number): Promise<{ messages: Message[]; more: boolean }>
  lastSeq(groupId: string): Promise<number>
  markDeleted(groupId: string, id: string, at: number): Promise<Message | null>
}

export interface NotificationRepo {
  insert(notification: Notification): Promise<void>
  get(userId: string, id: string): Promise<Notification | null>
  /** Newest first; `before` is the id of the last notification of the previous page. */
  page(userId: string, limit: number, before?: string): Promise<{ items: Notification[]; more: boolean }>
  unread(userId: string): Promise<number>
  /** Resolves to the notification when it was unread, `null` otherwise. */
  markRead(userId: string, id: string, at: number): Promise<Notification | null>
  /** Marks every unread notification read; resolves to how many. */
  markAllRead(userId: string, at: number): Promise<number>
  remove(userId: string, id: string): Promise<boolean>
}

export interface Repositories {
  readonly users: UserRepo
  readonly groups: GroupRepo
  readonly members: MemberRepo
  readonly messages: MessageRepo
  readonly notifications: NotificationRepo
  /** In-memory store only: every write as a change, in order. MongoDB has its change stream. */
  readonly onChange?: (listener: (change: Change) => void) => () => void
  close(): Promise<void>
}

let lastId = ''

/**
 * Time-ordered ids: sorting them sorts by creation. Ids made in the same millisecond
 * (a message mentioning two users, two writes in a burst) would otherwise order at
 * random, and a page cursor (`before`) would skip or repeat them: each id is made
 * greater than the previous one of this process.
 */
export function newId(now: number = Date.now()): string {
  const random = crypto.getRandomValues(new Uint32Array(2))
  const id = `${now.toString(36).padStart(9, '0')}${(random[0] as number).toString(36).padStart(7, '0')}${((random[1] as number) & 0xffff).toString(36).padStart(4, '0')}`
  lastId = id > lastId ? id : successor(lastId)
  return lastId
}

/** The next id after `id` in base-36 order, same length (the random part has room to spare). */
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

/** The key a member is stored under; a delete change carries only this. */
export const memberKey = (groupId: string, userId: string): string => `${groupId}|${userId}`
/** Likewise for notifications, so a delete still names its user. */
export const notificationKey = (userId: string, id: string): string => `${userId}|${id}`
