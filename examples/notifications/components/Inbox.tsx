'use client'
/**
 * The user's notifications as live state: the snapshot the server rendered (`initial`,
 * with its cursor), then every event after that cursor applied once. The bell in the
 * header and the list on the page read the same state.
 * @module
 */
import type { LiveStatus } from '@rt/react'
import { createContext, type ReactNode, useContext, useEffect, useRef, useState } from 'react'
import { RealtimeProvider, useLiveState } from '../lib/realtime'
import type { Inbox, Notification, Snapshot } from '../shared/types'
import { applyInbox, INBOX_EVENTS } from './inbox-state'

interface InboxContext {
  readonly inbox: Inbox
  readonly status: LiveStatus
  /** When the page was rendered on the server: times read "ago" from it until hydrated. */
  readonly now: number
  read(ids: readonly string[] | 'all'): void
}

const Context = createContext<InboxContext | null>(null)

function useInbox(): InboxContext {
  const found = useContext(Context)
  if (found === null) throw new Error('useInbox: render inside <InboxProvider>')
  return found
}

async function snapshot(): Promise<Snapshot<Inbox>> {
  const res = await fetch('/api/notifications', { cache: 'no-store' })
  if (!res.ok) throw new Error(`loading notifications failed with ${res.status}`)
  return (await res.json()) as Snapshot<Inbox>
}

function Live({ userId, initial, renderedAt, children }: InboxProps) {
  const state = useLiveState({
    key: ['inbox', userId],
    topics: [`user:${userId}`],
    types: INBOX_EVENTS,
    initial, // rendered on the server: no snapshot() on hydration, events from its cursor
    snapshot, // only after an rt.reset (a restarted in-memory server, a lost position)
    apply: applyInbox,
  })
  const [now, setNow] = useState(renderedAt)
  useEffect(() => {
    setNow(Date.now())
    const timer = setInterval(() => setNow(Date.now()), 30_000)
    return () => clearInterval(timer)
  }, [])
  const read = (ids: readonly string[] | 'all') => {
    void fetch('/api/notifications/read', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ids === 'all' ? { all: true } : { ids }),
    })
  }
  const inbox = state.data ?? initial.data
  return <Context.Provider value={{ inbox, status: state.status, now, read }}>{children}</Context.Provider>
}

interface InboxProps {
  readonly userId: string
  readonly initial: Snapshot<Inbox>
  readonly renderedAt: number
  readonly children: ReactNode
}

export function InboxProvider(props: InboxProps) {
  return (
    <RealtimeProvider options={{ url: '/events' }}>
      <Live {...props} />
    </RealtimeProvider>
  )
}

function ago(ts: number, now: number): string {
  const s = Math.max(0, Math.round((now - ts) / 1000))
  if (s < 60) return 'just now'
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`
  return `${Math.floor(s / 86_400)} d ago`
}

const LEVEL_ICON: Record<Notification['level'], string> = { info: 'i', success: '✓', warning: '!', critical: '!!' }

function Item({ n, compact }: { n: Notification; compact?: boolean }) {
  const { now, read } = useInbox()
  const unread = n.readAt === undefined
  return (
    <li className={`item level-${n.level}${unread ? ' unread' : ''}`} data-notification={n.id} data-read={!unread}>
      <span className="level" aria-hidden="true">
        {LEVEL_ICON[n.level]}
      </span>
      <div className="item-text">
        <div className="item-head">
          <strong className="title">{n.title}</strong>
          <time dateTime={new Date(n.createdAt).toISOString()}>{ago(n.createdAt, now)}</time>
        </div>
        {n.body !== '' && <p className={compact ? 'body clamp' : 'body'}>{n.body}</p>}
        <p className="meta">{'userId' in n.to ? 'To you' : `To everyone in ${n.to.role}`}</p>
      </div>
      {unread && (
        <button type="button" className="mark" onClick={() => read([n.id])} aria-label={`Mark “${n.title}” read`}>
          <span className="dot" aria-hidden="true" />
        </button>
      )}
    </li>
  )
}

export function Bell() {
  const { inbox, status, read } = useInbox()
  const [open, setOpen] = useState(false)
  const panel = useRef<HTMLDivElement>(null)
  useEffect(() => {
    if (!open) return
    const close = (event: MouseEvent) => {
      if (panel.current !== null && !panel.current.contains(event.target as Node)) setOpen(false)
    }
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') setOpen(false)
    }
    document.addEventListener('mousedown', close)
    document.addEventListener('keydown', onKey)
    return () => {
      document.removeEventListener('mousedown', close)
      document.removeEventListener('keydown', onKey)
    }
  }, [open])
  const items = inbox.items.slice(0, 6)
  return (
    <div className="bell-wrap" ref={panel}>
      <button
        type="button"
        className={`bell${open ? ' open' : ''}`}
        aria-label={`Notifications, ${inbox.unread} unread`}
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
        data-inbox-status={status}
      >
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
          <path
            d="M12 2a6 6 0 0 0-6 6v3.6l-1.7 3.1A1 1 0 0 0 5.2 16h13.6a1 1 0 0 0 .9-1.3L18 11.6V8a6 6 0 0 0-6-6Zm0 20a3 3 0 0 0 2.8-2H9.2A3 3 0 0 0 12 22Z"
            fill="currentColor"
          />
        </svg>
        {inbox.unread > 0 && (
          <span className="count" data-unread-count={inbox.unread}>
            {inbox.unread > 99 ? '99+' : inbox.unread}
          </span>
        )}
      </button>
      {open && (
        <div className="panel" role="dialog" aria-label="Notifications" data-bell-panel>
          <div className="panel-head">
            <h2>Notifications</h2>
            {inbox.unread > 0 && (
              <button type="button" className="link" onClick={() => read('all')}>
                Mark all read
              </button>
            )}
          </div>
          {items.length === 0 ? (
            <p className="empty" data-empty>
              You are all caught up.
            </p>
          ) : (
            <ul className="items compact">
              {items.map((n) => (
                <Item key={n.id} n={n} compact />
              ))}
            </ul>
          )}
          <a className="panel-foot" href="/notifications">
            See all notifications
          </a>
        </div>
      )}
    </div>
  )
}

export function NotificationList() {
  const { inbox, status, read } = useInbox()
  return (
    <section className="card" aria-labelledby="list-title">
      <div className="card-head">
        <div>
          <h1 id="list-title">Notifications</h1>
          <p className="sub">
            <span className="unread-total" data-unread-total={inbox.unread}>
              {inbox.unread === 0 ? 'Nothing unread' : `${inbox.unread} unread`}
            </span>
            <span className={`live live-${status}`} data-list-status={status}>
              {status === 'live' ? 'Live' : status === 'error' ? 'Offline' : 'Connecting'}
            </span>
          </p>
        </div>
        {inbox.unread > 0 && (
          <button type="button" className="button ghost" onClick={() => read('all')}>
            Mark all read
          </button>
        )}
      </div>
      {inbox.items.length === 0 ? (
        <p className="empty" data-empty>
          You are all caught up. New notifications appear here as they are sent.
        </p>
      ) : (
        <ul className="items" data-list>
          {inbox.items.map((n) => (
            <Item key={n.id} n={n} />
          ))}
        </ul>
      )}
    </section>
  )
}
