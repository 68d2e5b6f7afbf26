// The health page: the hub's healthReport, rendered on the server and refreshed every second.
import { healthReport } from '@rt/server'
import { Header } from '../../components/Header'
import { HealthView } from '../../components/HealthView'
import { Bell, InboxProvider } from '../../components/Inbox'
import { currentUser, notifications } from '../../lib/server'

export const dynamic = 'force-dynamic'

export default async function HealthPage() {
  const app = notifications()
  const user = await currentUser()
  const { report } = healthReport(app.hub)
  const view = (
    <main className="page">
      <HealthView initial={report} renderedAt={Date.now()} />
    </main>
  )
  if (user === null) return view
  return (
    <InboxProvider userId={user.id} initial={await app.snapshot(user, 'page')} renderedAt={Date.now()}>
      <Header user={user} bell={<Bell />} page="health" />
      {view}
    </InboxProvider>
  )
}
