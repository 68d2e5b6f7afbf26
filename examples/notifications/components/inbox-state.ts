/**
 * The bell's state and how an event changes it. Idempotent: an event just after the
 * snapshot's cursor may already be in the snapshot (the cursor is read before the data),
 * so applying it again must change nothing.
 * @module
 */
import { INBOX_SIZE, type Inbox, type NotificationEvents } from '../shared/types'

export type InboxEvent = keyof NotificationEvents

export const INBOX_EVENTS: InboxEvent[] = ['notification.new', 'notification.read']

export function applyInbox(state: Inbox, event: { type: InboxEvent; data: NotificationEvents[InboxEvent] }): Inbox {
  if (event.type === 'notification.new') {
    const { notification, unread } = event.data as NotificationEvents['notification.new']
    if (state.items.some((n) => n.id === notification.id)) return { ...state, unread }
    return { unread, items: [notification, ...state.items].slice(0, INBOX_SIZE) }
  }
  const { ids, all, readAt, unread } = event.data as NotificationEvents['notification.read']
  const marked = new Set(ids)
  return {
    unread,
    items: state.items.map((n) =>
      n.readAt === undefined && (all ? n.createdAt <= readAt : marked.has(n.id)) ? { ...n, readAt } : n,
    ),
  }
}
