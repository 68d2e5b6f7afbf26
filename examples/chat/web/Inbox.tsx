/**
 * The notification bell and inbox. The count and the first page are live state: a
 * snapshot with its log position, then every event after it applied once, so every tab
 * shows the same count, across reconnects; a server reset takes a new snapshot.
 * @module
 */
import { useEffect, useRef, useState } from 'react'
import type { ChatEvents, Notification, NotificationPage, User } from '../shared/types.js'
import { api } from './api.js'
import { Icon } from './Icon.js'
import { useEvent, useLiveState } from './realtime.js'

type InboxEvent = 'notification.new' | 'notification.read' | 'notification.deleted'

const ICONS: Record<Notification['kind'], string> = {
  mention: '@',
  added_to_group: '+',
  removed_from_group: '-',
  role_changed: '★',
  group_updated: '✎',
  group_deleted: '✕',
  member_joined: '→',
  member_left: '←',
  message_deleted: '⌫',
  welcome: 'hi',
}

/** One event applied to the inbox; idempotent, since events just after the snapshot's cursor may already be in it. */
export function applyInbox(
  state: NotificationPage,
  event: { type: InboxEvent; data: ChatEvents[InboxEvent] },
): NotificationPage {
  switch (event.type) {
    case 'notification.new': {
      const { notification, unread } = event.data as ChatEvents['notification.new']
      const known = state.items.some((n) => n.id === notification.id)
      return { ...state, unread, items: known ? state.items : [notification, ...state.items] }
    }
    case 'notification.read': {
      const { id, readAt, unread } = event.data as ChatEvents['notification.read']
      return { ...state, unread, items: state.items.map((n) => markRead(n, id, readAt, unread)) }
    }
    case 'notification.deleted': {
      const { id, unread } = event.data as ChatEvents['notification.deleted']
      return { ...state, unread, items: state.items.filter((n) => n.id !== id) }
    }
  }
}

/**
 * `n` after the read of notification `id`. The count is taken when the event is made, so
 * after "read all" the first of its events already says 0 while the others are still on
 * their way: nothing is unread then, and the bell and the list agree at once.
 */
function markRead(n: Notification, id: string, readAt: number, unread: number): Notification {
  if (n.readAt !== undefined) return n
  return n.id === id || unread === 0 ? { ...n, readAt } : n
}

function ago(ts: number): string {
  const s = Math.max(0, Math.round((Date.now() - ts) / 1000))
  if (s < 60) return 'just now'
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`
  return new Date(ts).toLocaleDateString()
}

export function Inbox({ me, onOpenGroup }: { me: User; onOpenGroup: (groupId: string) => void }) {
  const [open, setOpen] = useState(false)
  const [older, setOlder] = useState<{ items: Notification[]; more: boolean } | null>(null)
  const panel = useRef<HTMLDivElement>(null)
  const inbox = useLiveState<NotificationPage, InboxEvent>({
    key: ['inbox', me.id],
    topics: [`user:${me.id}`],
    types: ['notification.new', 'notification.read', 'notification.deleted'],
    snapshot: () => api.notifications(),
    apply: (state, event) => applyInbox(state, event),
  })
  // Older pages are not live state; keep their read marks and deletions current too.
  useEvent('notification.read', ({ id, readAt, unread }) => {
    setOlder((o) => o && { ...o, items: o.items.map((n) => markRead(n, id, readAt, unread)) })
  })
  useEvent('notification.deleted', ({ id }) => {
    setOlder((o) => o && { ...o, items: o.items.filter((n) => n.id !== id) })
  })
  useEffect(() => {
    if (!open) return
    const close = (event: MouseEvent) => {
      if (panel.current !== null && !panel.current.contains(event.target as Node)) setOpen(false)
    }
    document.addEventListener('mousedown', close)
    return () => document.removeEventListener('mousedown', close)
  }, [open])

  const data = inbox.data
  const unread = data?.unread ?? 0
  const firstPage = data?.items ?? []
  const known = new Set(firstPage.map((n) => n.id))
  const items = [...firstPage, ...(older?.items ?? []).filter((n) => !known.has(n.id))]
  const more = older === null ? (data?.more ?? false) : older.more
  const loadMore = () => {
    const last = items.at(-1)
    if (last === undefined) return
    api.notifications(last.id).then(({ data: page }) => {
      setOlder((o) => ({ items: [...(o?.items ?? []), ...page.items], more: page.more }))
    })
  }

  return (
    <div className="inbox" ref={panel}>
      <button
        type="button"
        className="icon bell"
        aria-label={`Notifications, ${unread} unread`}
        onClick={() => setOpen((o) => !o)}
        data-inbox-status={inbox.status}
      >
        <Icon name="bell" />
        {unread > 0 && (
          <span className="badge bell-count" data-unread-count={unread}>
            {unread > 99 ? '99+' : unread}
          </span>
        )}
      </button>
      {open && (
        <div className="inbox-panel" role="dialog" aria-label="Notifications">
          <header>
            <strong>Notifications</strong>
            <button type="button" className="link" disabled={unread === 0} onClick={() => void api.readAll()}>
              Mark all read
            </button>
          </header>
          {inbox.status === 'loading' && <p className="muted pad">Loading…</p>}
          {inbox.status === 'error' && (
            <p className="error pad">
              Could not load notifications.{' '}
              <button type="button" className="link" onClick={inbox.refetch}>
                Retry
              </button>
            </p>
          )}
          {data !== undefined && items.length === 0 && <p className="muted pad">Nothing here yet.</p>}
          <ul>
            {items.map((n) => (
              <li key={n.id} className={n.readAt === undefined ? 'unread' : ''} data-notification={n.id}>
                <span className="kind">{ICONS[n.kind]}</span>
                <button
                  type="button"
                  className="notification-text"
                  onClick={() => {
                    if (n.readAt === undefined) void api.readNotification(n.id)
                    if (n.groupId !== undefined) {
                      onOpenGroup(n.groupId)
                      setOpen(false)
                    }
                  }}
                >
                  <span>{n.text}</span>
                  <time>{ago(n.createdAt)}</time>
                </button>
                <span className="notification-actions">
                  {n.readAt === undefined && (
                    <button
                      type="button"
                      className="icon small"
                      title="Mark read"
                      data-action="read"
                      onClick={() => void api.readNotification(n.id)}
                    >
                      <Icon name="check" size={16} />
                    </button>
                  )}
                  <button
                    type="button"
                    className="icon small"
                    title="Delete"
                    data-action="delete"
                    onClick={() => void api.deleteNotification(n.id)}
                  >
                    <Icon name="trash" size={16} />
                  </button>
                </span>
              </li>
            ))}
          </ul>
          {more && (
            <button type="button" className="older" onClick={loadMore}>
              Show older
            </button>
          )}
        </div>
      )}
    </div>
  )
}
