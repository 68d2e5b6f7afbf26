/**
 * The long-poll transport: the same log, ids and filters as SSE, one JSON answer per request.
 * @module
 */

import type { PollAnswer, PollEvent } from '@rt/protocol'
import type { Connection } from './connection.js'
import { catchUpLog, type Log, type LogEntry, readLog } from './log.js'

/** Entries one poll answer carries at most; a client with more to catch up polls again at once. */
const POLL_PAGE = 500

export interface PollDeps {
  readonly log: Log
  /** Puts the connection in the topic index so live entries reach its buffer. */
  index(conn: Connection): void
  release(conn: Connection): void
  /** The client resumed from `id`: everything before it is acknowledged. */
  resumedFrom(conn: Connection, id: string): void
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
  defer(fn: () => void): void
}

const toEvent = (entry: LogEntry): PollEvent => ({
  id: entry.id,
  type: entry.type,
  topic: entry.topic,
  ts: entry.ts,
  data: entry.data,
})

function waitForEntries(deps: PollDeps, conn: Connection, ms: number, signal: AbortSignal | undefined) {
  return new Promise<void>((resolve) => {
    const done = () => {
      deps.clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      conn.wake = null
      resolve()
    }
    const timer = deps.setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
    // Answer after the current tick, so a burst published together travels together.
    conn.wake = () => {
      conn.wake = null
      deps.defer(done)
    }
  })
}

/**
 * Answers one long-poll request for a reserved connection, and releases it.
 * Without a position it answers at once with the head, so the client has one.
 */
export async function longPoll(
  deps: PollDeps,
  conn: Connection,
  lastEventId: string | null,
  waitMs: number,
  signal: AbortSignal | undefined,
): Promise<PollAnswer> {
  try {
    if (lastEventId === null) return { events: [], lastEventId: deps.log.head(), reset: false }
    // Before collecting live entries: what the tail tells on its way to the position is not for us.
    await catchUpLog(deps.log, lastEventId)
    if (conn.state === 'closed') return { events: [], lastEventId, reset: false }
    conn.state = 'polling'
    conn.buffer = []
    deps.index(conn)
    const page = await readLog(deps.log, lastEventId, POLL_PAGE, conn.filter)
    if (!page.ok) return { events: [], lastEventId: deps.log.head(), reset: true, reason: page.reason }
    deps.resumedFrom(conn, lastEventId)
    const last = page.entries.at(-1)
    const cursor = page.cursor ?? (last === undefined ? lastEventId : last.id)
    const events = page.entries.filter((entry) => conn.accepts(entry))
    if (events.length > 0 || page.more || conn.overflow) {
      return { events: events.map(toEvent), lastEventId: cursor, reset: false }
    }
    // Entries told to us during the read are in the page or newer than all of it.
    const seen = new Set(page.entries.map((entry) => entry.id))
    const fresh = () => conn.buffer.filter((entry) => !seen.has(entry.id))
    if (fresh().length === 0 && waitMs > 0 && signal?.aborted !== true && conn.state === 'polling') {
      await waitForEntries(deps, conn, waitMs, signal)
    }
    const arrived = fresh()
    const newest = arrived.at(-1)
    return { events: arrived.map(toEvent), lastEventId: newest === undefined ? cursor : newest.id, reset: false }
  } finally {
    deps.release(conn)
  }
}
