/**
 * The app: the login screen, or the chat inside one realtime provider for the user.
 * @module
 */
import { useEffect, useState } from 'react'
import type { User } from '../shared/types.js'
import { api } from './api.js'
import { Chat } from './Chat.js'
import { Login } from './Login.js'
import { RealtimeProvider } from './realtime.js'

export function App() {
  const [user, setUser] = useState<User | null | undefined>(undefined)
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
        topics: [`user:${user.id}`],
        // Acks make "delivered" honest: the server marks a message delivered when this
        // client says it processed it, not when it was written to a socket.
        ack: true,
        presence: true,
        maxRetryMs: 5_000,
      }}
    >
      <Chat
        me={user}
        onLogout={() => {
          void api.logout().then(() => setUser(null))
        }}
      />
    </RealtimeProvider>
  )
}
