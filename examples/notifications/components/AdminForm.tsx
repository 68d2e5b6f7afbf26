'use client'
/**
 * The admin form: a notification for one user or for everyone with a role. It only
 * inserts the document (POST /api/notifications); delivery comes from the insert.
 * @module
 */
import { useRouter } from 'next/navigation'
import { type FormEvent, useState } from 'react'
import { LEVELS, type Level, type Role, type User } from '../shared/types'

export function AdminForm({ users, roles }: { users: readonly User[]; roles: readonly Role[] }) {
  const router = useRouter()
  const [kind, setKind] = useState<'user' | 'role'>('user')
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null)
  const [busy, setBusy] = useState(false)

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    const target = String(form.get('target'))
    const body = {
      title: form.get('title'),
      body: form.get('body'),
      level: form.get('level'),
      to: kind === 'user' ? { userId: target } : { role: target },
    }
    setBusy(true)
    try {
      const res = await fetch('/api/notifications', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      const answer = (await res.json()) as { error?: { message: string } }
      if (!res.ok) {
        setResult({ ok: false, text: answer.error?.message ?? `failed with ${res.status}` })
        return
      }
      setResult({ ok: true, text: 'Sent. It is on its way to the bell.' })
      ;(event.target as HTMLFormElement).reset()
      setKind('user')
      router.refresh()
    } finally {
      setBusy(false)
    }
  }

  return (
    <section className="card" aria-labelledby="send-title">
      <div className="card-head">
        <div>
          <h1 id="send-title">Send a notification</h1>
          <p className="sub">Inserts a document into the notifications collection; the target’s bell updates live.</p>
        </div>
      </div>
      <form className="form" onSubmit={submit} data-admin-form>
        <fieldset className="segmented">
          <legend>Send to</legend>
          <label>
            <input type="radio" name="kind" checked={kind === 'user'} onChange={() => setKind('user')} />
            <span>A user</span>
          </label>
          <label>
            <input type="radio" name="kind" checked={kind === 'role'} onChange={() => setKind('role')} />
            <span>A role</span>
          </label>
        </fieldset>
        <label className="field">
          <span>{kind === 'user' ? 'User' : 'Role'}</span>
          <select name="target" key={kind} data-target={kind}>
            {kind === 'user'
              ? users.map((u) => (
                  <option key={u.id} value={u.id}>
                    {u.name} ({u.role})
                  </option>
                ))
              : roles.map((r) => (
                  <option key={r} value={r}>
                    Everyone in {r}
                  </option>
                ))}
          </select>
        </label>
        <label className="field">
          <span>Title</span>
          <input name="title" required maxLength={120} placeholder="Deploy finished" />
        </label>
        <label className="field">
          <span>Message</span>
          <textarea name="body" rows={3} maxLength={1000} placeholder="Version 2.4 is live on production." />
        </label>
        <fieldset className="levels">
          <legend>Level</legend>
          {LEVELS.map((level: Level) => (
            <label key={level} className={`level-pick level-${level}`}>
              <input type="radio" name="level" value={level} defaultChecked={level === 'info'} />
              <span>{level}</span>
            </label>
          ))}
        </fieldset>
        <div className="actions">
          <button type="submit" className="button" disabled={busy} data-send>
            {busy ? 'Sending…' : 'Send notification'}
          </button>
          {result !== null && (
            <p className={result.ok ? 'ok' : 'error'} role="status" data-result={result.ok ? 'ok' : 'error'}>
              {result.text}
            </p>
          )}
        </div>
      </form>
    </section>
  )
}
