// The dev login: pick a seeded user. A plain form posting to /api/login, so it works before any script runs.
import { redirect } from 'next/navigation'
import { currentUser, notifications } from '../lib/server'

export const dynamic = 'force-dynamic'

const ROLE_LABEL = { admin: 'Admin: sends notifications', engineering: 'Engineering', support: 'Support' } as const

export default async function Login() {
  const me = await currentUser()
  if (me !== null) redirect(me.role === 'admin' ? '/admin' : '/notifications')
  const users = await notifications().service.users()
  return (
    <main className="login">
      <div className="login-card">
        <span className="logo big" aria-hidden="true">
          rt
        </span>
        <h1>Notifications</h1>
        <p className="sub">A dev login: pick who to be. Open a second browser (or a private window) as someone else.</p>
        <form action="/api/login" method="post" className="people">
          {users.map((user) => (
            <button key={user.id} type="submit" name="userId" value={user.id} data-login={user.id} className="person">
              <span className="avatar" aria-hidden="true">
                {user.name.slice(0, 1)}
              </span>
              <span>
                <strong>{user.name}</strong>
                <small>{ROLE_LABEL[user.role]}</small>
              </span>
            </button>
          ))}
        </form>
      </div>
    </main>
  )
}
