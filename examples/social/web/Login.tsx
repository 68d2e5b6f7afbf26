/**
 * The dev login: pick a seeded user or type a name. No passwords.
 * @module
 */
import { type FormEvent, useEffect, useState } from 'react'
import type { Profile } from '../shared/types.js'
import { Avatar } from './Avatar.js'
import { api } from './api.js'

export function Login({ onLogin }: { onLogin: (user: Profile) => void }) {
  const [users, setUsers] = useState<Profile[]>([])
  const [name, setName] = useState('')
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    api.users().then(
      ({ users }) => setUsers(users),
      () => setUsers([]),
    )
  }, [])
  const login = (as: string) => {
    setError(null)
    api.login(as).then(
      ({ user }) => onLogin(user),
      (e: Error) => setError(e.message),
    )
  }
  const submit = (event: FormEvent) => {
    event.preventDefault()
    if (name.trim() !== '') login(name)
  }
  return (
    <main className="login">
      <div className="card login-card">
        <h1>
          <span className="logo">rt</span> social
        </h1>
        <p className="muted">A development login: pick who you are. Open a private window to be someone else.</p>
        <ul className="login-users">
          {users.map((user) => (
            <li key={user.id}>
              <button type="button" onClick={() => login(user.id)} data-login={user.id}>
                <Avatar name={user.name} size={36} />
                <span className="who">
                  <strong>{user.name}</strong>
                  <span className="muted">@{user.handle}</span>
                </span>
                {user.admin && <span className="tag">admin</span>}
              </button>
            </li>
          ))}
        </ul>
        <form onSubmit={submit} className="row-form">
          <input
            aria-label="Your name"
            placeholder="…or type a new name"
            value={name}
            maxLength={40}
            onChange={(e) => setName(e.target.value)}
          />
          <button type="submit" className="primary">
            Log in
          </button>
        </form>
        {error !== null && <p className="error">{error}</p>}
      </div>
    </main>
  )
}
