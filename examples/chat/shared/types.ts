/**
 * The chat's domain records and its realtime events, shared by the server and the UI.
 * @module
 */

export type Role = 'owner' | 'admin' | 'member'

export interface User {
  readonly id: string
  readonly name: string
}

export interface Group {
  readonly id: string
  readonly name: string
  readonly description: string
  readonly createdBy: string
  readonly createdAt: number
  /** Set when the group was deleted; deleted groups are hidden everywhere. */
  readonly deletedAt?: number | undefined
}

/** A user's membership of a group, with how far their receipts have come. */
export interface Member {
  readonly groupId: string
  readonly userId: string
  readonly role: Role
  readonly joinedAt: number
  /** Messages up to this sequence number reached the member's client (its acks). */
  readonly deliveredSeq: number
  /** Messages up to this sequence number were shown to the member with the group open. */
  readonly readSeq: number
}

export interface Message {
  readonly id: string
  readonly groupId: string
  /** Position in the group, from 1; receipts are sequence numbers. */
  readonly seq: number
  readonly senderId: string
  readonly text: string
  readonly createdAt: number
  readonly deletedAt?: number | undefined
}

export type NotificationKind =
  | 'mention'
  | 'added_to_group'
  | 'removed_from_group'
  | 'role_changed'
  | 'group_updated'
  | 'group_deleted'
  | 'member_joined'
  | 'member_left'
  | 'message_deleted'
  | 'welcome'

export interface Notification {
  readonly id: string
  readonly userId: string
  readonly kind: NotificationKind
  readonly text: string
  readonly groupId?: string | undefined
  readonly actorId?: string | undefined
  readonly createdAt: number
  readonly readAt?: number | undefined
}

/** A group as its member sees it in the list. */
export interface GroupSummary {
  readonly group: Group
  readonly role: Role
  readonly members: readonly Member[]
  readonly users: readonly User[]
  readonly lastMessage: Message | null
  /** Messages after the member's `readSeq`. */
  readonly unread: number
}

/** A snapshot for live state: the data, and the log position it reflects. */
export interface Snapshot<T> {
  readonly data: T
  /** `hub.head()`, read before the data. */
  readonly cursor: string
}

export interface MessagePage {
  readonly groupId: string
  readonly messages: readonly Message[]
  readonly members: readonly Member[]
  /** Older messages exist before the first one. */
  readonly more: boolean
}

export interface NotificationPage {
  readonly items: readonly Notification[]
  readonly unread: number
  /** Older notifications exist after the last one. */
  readonly more: boolean
}

/** Every realtime event of the chat. `group:<id>` topics carry the first group; `user:<id>` the rest. */
export type ChatEvents = {
  'message.new': Message
  'message.deleted': { readonly groupId: string; readonly id: string }
  /** A member's receipts moved forward. */
  receipt: {
    readonly groupId: string
    readonly userId: string
    readonly deliveredSeq: number
    readonly readSeq: number
  }
  'member.added': { readonly member: Member; readonly user: User }
  'member.removed': { readonly groupId: string; readonly userId: string }
  'member.role': { readonly groupId: string; readonly userId: string; readonly role: Role }
  'group.updated': Group
  'group.deleted': { readonly groupId: string }
  /** Short-lived: someone is typing in a group. */
  typing: { readonly groupId: string; readonly userId: string }
  /** On the user's own topic: they joined or left a group, so their topics change. */
  'membership.added': { readonly groupId: string }
  'membership.removed': { readonly groupId: string }
  'notification.new': { readonly notification: Notification; readonly unread: number }
  'notification.read': { readonly id: string; readonly readAt: number; readonly unread: number }
  'notification.deleted': { readonly id: string; readonly unread: number }
}

export const groupTopic = (groupId: string): string => `group:${groupId}`
export const userTopic = (userId: string): string => `user:${userId}`
