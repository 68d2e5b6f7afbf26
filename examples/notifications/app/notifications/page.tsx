// The bell and the list, rendered on the server with their cursor and continued live after hydration.
import { redirect } from 'next/navigation'
import { Header } from '../../components/Header'
import { Bell, InboxProvider, NotificationList } from '../../components/Inbox'
import { currentUser, notifications } from '../../lib/server'

export const dynamic = 'force-dynamic'

export default async function NotificationsPage() {
  const user = await currentUser()
  if (user === null) redirect('/')
  // { data, cursor: hub.head() }, the head read before the data.
  const initial = await notifications().snapshot(user, 'page')
  return (
    <InboxProvider userId={user.id} initial={initial} renderedAt={Date.now()}>
      <Header user={user} bell={<Bell />} page="inbox" />
      <main className="page">
        <NotificationList />
      </main>
    </InboxProvider>
  )
}
