/**
 * The signed-in screen: a top bar (connection, tabs, the count of unseen activity), the broadcast banner, and
 * the page of the open tab. Notifications arrive on the user's own topic; a toast shows
 * the newest one for a few seconds.
 * @module
 */
import { useEffect, useRef, useState } from 'react'
import type { Broadcast, Notification, Profile } from '../shared/types.js'
import { Activity } from './Activity.js'
import { Admin } from './Admin.js'
import { Avatar } from './Avatar.js'
import { ConnectionBadge } from './ConnectionBadge.js'
import { Feed } from './Feed.js'
import { Icon } from './Icon.js'
import { People } from './People.js'
import { useEvent } from './realtime.js'

type Tab = 'feed' | 'activity' | 'people' | 'admin'

const KEPT = 50

export function Shell({ me, onLogout }: { me: Profile; onLogout: () => void }) {
  const [tab, setTab] = useState<Tab>('feed')
  const [notifications, setNotifications] = useState<Notification[]>([])
  const [unseen, setUnseen] = useState(0)
  const [toast, setToast] = useState<Notification | null>(null)
  const [banner, setBanner] = useState<Broadcast | null>(null)
  const tabRef = useRef(tab)
  tabRef.current = tab

  useEvent('notification', (notification) => {
    setNotifications((list) =>
      list.some((n) => n.id === notification.id) ? list : [notification, ...list].slice(0, KEPT),
    )
    // Seen at once when the list is open.
    if (tabRef.current !== 'activity') setUnseen((n) => n + 1)
    setToast(notification)
  })
  useEvent('broadcast', setBanner)
  useEffect(() => {
    if (toast === null) return
    const timer = setTimeout(() => setToast(null), 5_000)
    return () => clearTimeout(timer)
  }, [toast])
  useEffect(() => {
    if (tab === 'activity') setUnseen(0)
  }, [tab])

  const tabs: [Tab, string][] = [
    ['feed', 'Feed'],
    ['activity', 'Activity'],
    ['people', 'People'],
    ...(me.admin ? ([['admin', 'Admin']] as [Tab, string][]) : []),
  ]
  return (
    <div className="shell" data-tab={tab}>
      <header className="topbar">
        <div className="topbar-inner">
          <div className="brand">
            <span className="logo">rt</span>
            <span className="brand-name">social</span>
            <ConnectionBadge />
          </div>
          <nav className="tabs" aria-label="Pages">
            {tabs.map(([id, label]) => (
              <button
                key={id}
                type="button"
                className={tab === id ? 'tab active' : 'tab'}
                onClick={() => setTab(id)}
                data-nav={id}
              >
                {label}
                {id === 'activity' && unseen > 0 && (
                  <span className="badge" data-unseen={unseen}>
                    {unseen}
                  </span>
                )}
              </button>
            ))}
          </nav>
          <div className="me">
            <Avatar name={me.name} size={32} />
            <strong className="me-name" data-me={me.id}>
              {me.name}
            </strong>
            <button type="button" className="icon" title="Log out" onClick={onLogout}>
              <Icon name="logout" />
            </button>
          </div>
        </div>
      </header>
      {banner !== null && (
        <div className="banner" role="status" data-broadcast={banner.id}>
          <Icon name="megaphone" />
          <span>
            <strong>{banner.from.name}:</strong> {banner.text}
          </span>
          <button type="button" className="icon" title="Dismiss" onClick={() => setBanner(null)}>
            <Icon name="close" size={18} />
          </button>
        </div>
      )}
      <div className="page">
        {tab === 'feed' && (
          <div className="columns">
            <Feed me={me} />
            <aside className="side">
              <section className="card">
                <h2>Activity</h2>
                <Activity items={notifications} />
              </section>
              <section className="card">
                <h2>People</h2>
                <People compact />
              </section>
            </aside>
          </div>
        )}
        {tab === 'activity' && (
          <section className="card narrow">
            <h2>Activity</h2>
            <Activity items={notifications} />
          </section>
        )}
        {tab === 'people' && (
          <section className="card narrow">
            <h2>People</h2>
            <People />
          </section>
        )}
        {tab === 'admin' && me.admin && <Admin />}
      </div>
      {toast !== null && (
        <div className="toast" role="status" data-toast={toast.kind}>
          <Avatar name={toast.actor.name} size={28} />
          <span>{toast.text}</span>
        </div>
      )}
    </div>
  )
}
