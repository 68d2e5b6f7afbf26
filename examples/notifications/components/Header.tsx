// The top bar: the app's name, the pages this user may open, the bell and who is logged in.
import type { ReactNode } from 'react'
import type { User } from '../shared/types'

export function Header({ user, bell, page }: { user: User; bell: ReactNode; page: 'inbox' | 'admin' | 'health' }) {
  return (
    <header className="topbar">
      <a className="brand" href="/notifications">
        <span className="logo" aria-hidden="true">
          rt
        </span>
        <span className="brand-name">Notifications</span>
      </a>
      <nav className="nav" aria-label="Pages">
        <a href="/notifications" aria-current={page === 'inbox' ? 'page' : undefined}>
          Inbox
        </a>
        {user.role === 'admin' && (
          <a href="/admin" aria-current={page === 'admin' ? 'page' : undefined}>
            Send
          </a>
        )}
        <a href="/health" aria-current={page === 'health' ? 'page' : undefined}>
          Health
        </a>
      </nav>
      <div className="right">
        {bell}
        <form action="/api/logout" method="post" className="me">
          <span className="avatar" aria-hidden="true">
            {user.name.slice(0, 1)}
          </span>
          <span className="me-name" data-me={user.id}>
            {user.name}
          </span>
          <button type="submit" className="link small">
            Log out
          </button>
        </form>
      </div>
    </header>
  )
}
