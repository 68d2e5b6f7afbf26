'use client'
/**
 * The health page's live part: GET /api/health (healthReport: the change stream's state,
 * when its resume token was last saved, its lag) once a second.
 * @module
 */
import type { HealthReport } from '@rt/server'
import { useEffect, useState } from 'react'

type SourceRow = HealthReport['sources'][number] & { lastTokenAt?: number; lastChangeAt?: number; restarts?: number }

function since(ts: number | undefined, now: number): string {
  if (ts === undefined) return '—'
  const s = Math.max(0, (now - ts) / 1000)
  return s < 1 ? 'just now' : s < 120 ? `${Math.round(s)} s ago` : `${Math.round(s / 60)} min ago`
}

export function HealthView({ initial, renderedAt }: { initial: HealthReport; renderedAt: number }) {
  const [report, setReport] = useState(initial)
  const [now, setNow] = useState(renderedAt)
  useEffect(() => {
    let stopped = false
    const poll = async () => {
      try {
        const res = await fetch('/api/health', { cache: 'no-store' })
        if (!stopped) setReport((await res.json()) as HealthReport)
      } catch {}
      if (!stopped) setNow(Date.now())
    }
    const timer = setInterval(poll, 1_000)
    return () => {
      stopped = true
      clearInterval(timer)
    }
  }, [])
  const sources = report.sources as SourceRow[]
  return (
    <>
      <section className="card" aria-labelledby="health-title">
        <div className="card-head">
          <div>
            <h1 id="health-title">Health</h1>
            <p className="sub">The hub and its event sources, from GET /api/health.</p>
          </div>
          <span className={`status status-${report.status}`} data-health={report.status}>
            {report.status}
          </span>
        </div>
        <dl className="stats">
          <div>
            <dt>Open streams</dt>
            <dd data-connections>{report.connections}</dd>
          </div>
          <div>
            <dt>Events logged</dt>
            <dd>{report.published}</dd>
          </div>
          <div>
            <dt>Delivered</dt>
            <dd>{report.delivered}</dd>
          </div>
          <div>
            <dt>Dropped</dt>
            <dd>{report.dropped}</dd>
          </div>
        </dl>
      </section>
      <section className="card" aria-labelledby="sources-title">
        <div className="card-head">
          <h2 id="sources-title">Sources</h2>
        </div>
        {sources.length === 0 ? (
          <p className="empty">
            In memory: the app publishes its own inserts. Set MONGODB_URI to watch a change stream.
          </p>
        ) : (
          <ul className="sources">
            {sources.map((s) => (
              <li key={s.name} data-source={s.name} data-state={s.state}>
                <div className="source-head">
                  <strong>{s.name}</strong>
                  <span className={`status status-${s.state}`}>{s.state}</span>
                </div>
                <dl className="stats small">
                  <div>
                    <dt>Resume token saved</dt>
                    <dd data-last-token>{since(s.lastTokenAt, now)}</dd>
                  </div>
                  <div>
                    <dt>Lag</dt>
                    <dd data-lag>{s.lagMs === undefined ? '—' : `${s.lagMs} ms`}</dd>
                  </div>
                  <div>
                    <dt>Last event</dt>
                    <dd>{since(s.lastEventAt, now)}</dd>
                  </div>
                  <div>
                    <dt>Restarts</dt>
                    <dd>{s.restarts ?? 0}</dd>
                  </div>
                </dl>
                {s.state === 'failed' && <p className="error">The source failed; see the server log.</p>}
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  )
}
