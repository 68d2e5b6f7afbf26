// The admin's page: the form that inserts a notification, and the latest ones sent.
import { redirect } from 'next/navigation'
import { AdminForm } from '../../components/AdminForm'
import { Header } from '../../components/Header'
import { Bell, InboxProvider } from '../../components/Inbox'
import { currentUser, notifications } from '../../lib/server'
import { ROLES } from '../../shared/types'

export const dynamic = 'force-dynamic'

export default async function AdminPage() {
  const user = await currentUser()
  if (user === null) redirect('/')
  if (user.role !== 'admin') redirect('/notifications')
  const app = notifications()
  const [initial, users, sent] = [
    await app.snapshot(user, 'page'),
    await app.service.users(),
    await app.service.recent(user),
  ]
  const names = new Map(users.map((u) => [u.id, u.name]))
  return (
    <InboxProvider userId={user.id} initial={initial} renderedAt={Date.now()}>
      <Header user={user} bell={<Bell />} page="admin" />
      <main className="page admin">
        <AdminForm users={users.filter((u) => u.role !== 'admin')} roles={ROLES} />
        <section className="card" aria-labelledby="sent-title">
          <div className="card-head">
            <h2 id="sent-title">Recently sent</h2>
          </div>
          <ul className="sent" data-sent>
            {sent.map((n) => (
              <li key={n.id} className={`level-${n.level}`}>
                <span className="level small" aria-hidden="true" />
                <span className="sent-title">{n.title}</span>
                <span className="chip">
                  {'userId' in n.to ? (names.get(n.to.userId) ?? n.to.userId) : `@${n.to.role}`}
                </span>
              </li>
            ))}
          </ul>
        </section>
      </main>
    </InboxProvider>
  )
}
