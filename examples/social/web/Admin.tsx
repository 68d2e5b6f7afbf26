/**
 * The admin page: the change source's state and lag (`hub.stats().sources`), a switch to
 * stop and start it at run time, every state it went through, and a broadcast banner for
 * everyone connected. Live on the `admin` topic, which only admins may join.
 * @module
 */
import { type FormEvent, useEffect, useState } from 'react'
import type { SourceReport } from '../shared/types.js'
import { api } from './api.js'
import { useEvent } from './realtime.js'

function clock(ts: number): string {
  return new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })
}

export function Admin() {
  const [report, setReport] = useState<SourceReport | null>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [text, setText] = useState('')
  const [sent, setSent] = useState<string | null>(null)

  useEffect(() => {
    const load = () => {
      api.adminStatus().then(
        ({ data }) => setReport(data),
        (e: Error) => setError(e.message),
      )
    }
    load()
    // Lag and counters move without a state change: refresh them now and then.
    const timer = setInterval(load, 2_000)
    return () => clearInterval(timer)
  }, [])
  useEvent('source.state', setReport)

  const act = (run: () => Promise<{ source: SourceReport }>) => {
    setBusy(true)
    setError(null)
    run().then(
      ({ source }) => {
        setReport(source)
        setBusy(false)
      },
      (e: Error) => {
        setError(e.message)
        setBusy(false)
      },
    )
  }
  const broadcast = (event: FormEvent) => {
    event.preventDefault()
    if (text.trim() === '') return
    api.broadcast(text).then(
      () => {
        setSent(text)
        setText('')
      },
      (e: Error) => setError(e.message),
    )
  }

  const running = report !== null && report.state !== 'stopped'
  return (
    <div className="admin">
      <section className="card">
        <div className="admin-head">
          <h2>Change source</h2>
          {report !== null && (
            <span className={`pill ${report.state}`} data-source-state={report.state}>
              {report.state}
            </span>
          )}
        </div>
        {report === null ? (
          <p className="muted small">Loading…</p>
        ) : (
          <>
            <dl className="stats">
              <div className="wide">
                <dt>Source</dt>
                <dd>
                  {report.name} ({report.mode === 'mongodb' ? 'MongoDB change stream' : 'in-memory store'})
                </dd>
              </div>
              <div>
                <dt>Lag</dt>
                <dd data-lag>{report.lagMs === null ? '–' : `${report.lagMs} ms`}</dd>
              </div>
              <div>
                <dt>Last event</dt>
                <dd>{report.lastEventAt === null ? '–' : clock(report.lastEventAt)}</dd>
              </div>
              <div>
                <dt>Connections</dt>
                <dd>{report.connections}</dd>
              </div>
              <div>
                <dt>Events logged</dt>
                <dd>{report.published}</dd>
              </div>
            </dl>
            {report.error !== null && <p className="error small">{report.error}</p>}
            <div className="admin-actions">
              <button
                type="button"
                className="danger"
                disabled={busy || !running}
                onClick={() => act(api.stopSource)}
                data-action="stop"
              >
                Stop change stream
              </button>
              <button
                type="button"
                className="primary"
                disabled={busy || running}
                onClick={() => act(api.startSource)}
                data-action="start"
              >
                Start change stream
              </button>
            </div>
            <p className="muted small">
              Stopped, writes keep landing in the store; started again, the source resumes from its stored position and
              delivers each of them once.
            </p>
            <h3>States</h3>
            <ol className="history" data-history={report.history.map((h) => h.state).join(',')}>
              {report.history.map((entry, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: the history only grows at the end
                <li key={i}>
                  <span className={`pill ${entry.state}`}>{entry.state}</span>
                  <time className="muted small">{clock(entry.at)}</time>
                </li>
              ))}
            </ol>
          </>
        )}
        {error !== null && <p className="error small">{error}</p>}
      </section>
      <section className="card">
        <h2>Broadcast</h2>
        <p className="muted small">A banner for everyone connected right now.</p>
        <form className="row-form" onSubmit={broadcast}>
          <input
            aria-label="Broadcast message"
            placeholder="Maintenance at 22:00 UTC, back in 5 minutes"
            value={text}
            maxLength={200}
            onChange={(e) => setText(e.target.value)}
          />
          <button type="submit" className="primary" disabled={text.trim() === ''}>
            Send
          </button>
        </form>
        {sent !== null && <p className="muted small">Sent: {sent}</p>}
      </section>
    </div>
  )
}
