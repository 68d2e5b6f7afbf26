/**
 * The "new group" dialog: a name and the people to add.
 * @module
 */
import { type FormEvent, useEffect, useState } from 'react'
import type { User } from '../shared/types.js'
import { Avatar } from './Avatar.js'
import { api } from './api.js'

export function NewGroup(props: { me: User; onClose: () => void; onCreated: (groupId: string) => void }) {
  const [users, setUsers] = useState<User[]>([])
  const [name, setName] = useState('')
  const [picked, setPicked] = useState<ReadonlySet<string>>(new Set())
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    api.users().then(
      ({ users }) => setUsers(users.filter((u) => u.id !== props.me.id)),
      () => {},
    )
  }, [props.me.id])
  const toggle = (id: string) =>
    setPicked((p) => {
      const next = new Set(p)
      if (!next.delete(id)) next.add(id)
      return next
    })
  const submit = (event: FormEvent) => {
    event.preventDefault()
    api.createGroup(name, [...picked]).then(
      ({ group }) => props.onCreated(group.id),
      (e: Error) => setError(e.message),
    )
  }
  return (
    <div className="modal-backdrop">
      <form className="modal" onSubmit={submit}>
        <h2>New group</h2>
        <input
          aria-label="Group name"
          placeholder="Group name"
          value={name}
          maxLength={80}
          onChange={(e) => setName(e.target.value)}
        />
        <p className="muted">Add people</p>
        <ul className="pick">
          {users.map((u) => (
            <li key={u.id}>
              <label>
                <input type="checkbox" checked={picked.has(u.id)} onChange={() => toggle(u.id)} />
                <Avatar name={u.name} size={28} />
                {u.name}
              </label>
            </li>
          ))}
        </ul>
        {error !== null && <p className="error">{error}</p>}
        <footer>
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={name.trim() === ''}>
            Create
          </button>
        </footer>
      </form>
    </div>
  )
}
