/**
 * The app: the login screen, or the feed inside one realtime provider for the user (their
 * own topic, the feed, and for admins the admin topic; post topics join as posts scroll
 * into view).
 * @module
 */
import { useEffect, useState } from 'react'
import { ADMIN, FEED, type Profile, userTopic } from '../shared/types.js'
import { api } from './api.js'
import { Login } from './Login.js'
import { RealtimeProvider } from './realtime.js'
import { Shell } from './Shell.js'

export function App() {
  const [user, setUser] = useState<Profile | null | undefined>(undefined)
  useEffect(() => {
    api.me().then(
      ({ user }) => setUser(user),
      () => setUser(null),
    )
  }, [])
  if (user === undefined) return <div className="splash">Loading…</div>
  if (user === null) return <Login onLogin={setUser} />
  return (
    <RealtimeProvider
      key={user.id}
      options={{
        url: '/events',
        topics: [userTopic(user.id), FEED, ...(user.admin ? [ADMIN] : [])],
        maxRetryMs: 5_000,
      }}
    >
      <Shell
        me={user}
        onLogout={() => {
          void api.logout().then(() => setUser(null))
        }}
      />
    </RealtimeProvider>
  )
}
