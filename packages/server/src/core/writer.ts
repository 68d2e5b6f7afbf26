/**
 * The write path: per-connection queues, coalesced flushes, backpressure for replay, and
 * disconnecting consumers that fall behind.
 * @module
 */
import type { Connection } from './connection.js'
import type { StreamSink } from './sink.js'
import { ControlEvent, encodeControl } from './wire.js'

/** Queued bytes past which a connection's queue is written at once instead of at the flush. */
const EARLY_WRITE_BYTES = 64 * 1024
const SLOW_CONSUMER = encodeControl(ControlEvent.closing, { reason: 'slow_consumer' })

/** Runs `fn` after the current I/O callbacks, so writes made in one tick coalesce. */
export const defer: (fn: () => void) => void =
  typeof globalThis.setImmediate === 'function' ? (fn) => setImmediate(fn) : (fn) => setTimeout(fn, 0)

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.byteLength
  }
  return out
}

export interface WriterOptions {
  readonly maxBufferedBytes: number
  readonly coalesceMs: number
  /**
   * How long a dropped consumer's transport may take to deliver its backlog and the reason
   * before it is torn down: the hub's heartbeat interval, the yardstick of a stalled client.
   */
  readonly dropGraceMs: number
  /** Takes a connection out of the hub's indexes (it is then `closed`). */
  release(conn: Connection): void
  /** Counts a dropped consumer. */
  dropped(): void
}

export interface Writer {
  /** Queues bytes for a connection; they go out with the next flush. */
  enqueue(conn: Connection, bytes: Uint8Array): void
  /** Writes a connection's queue now. */
  writeQueued(conn: Connection): void
  /** Resolves once the connection's backlog is below half its cap (or it closed). */
  room(conn: Connection): Promise<void>
  /** Disconnects a consumer that fell behind; it resumes from the log when it reconnects. */
  drop(conn: Connection): void
  /** Cancels pending timers and tears down dropped consumers still open. */
  close(): void
}

export function createWriter(options: WriterOptions): Writer {
  const { maxBufferedBytes: maxBuffered, coalesceMs, dropGraceMs, release } = options
  let dirty: Connection[] = []
  let flushScheduled = false
  let flushTimer: ReturnType<typeof setTimeout> | undefined
  let lastFlushAt = Number.NEGATIVE_INFINITY
  /** Dropped consumers' transports, ended, torn down at their deadline if still open. */
  const dying = new Map<StreamSink, number>()
  let dyingTimer: ReturnType<typeof setTimeout> | undefined

  function enqueue(conn: Connection, bytes: Uint8Array): void {
    // A loop may still hold a connection it just dropped: its queue would grow unbounded.
    if (conn.state === 'closed') return
    conn.queue.push(bytes)
    conn.queued += bytes.byteLength
    if (conn.queued >= EARLY_WRITE_BYTES && conn.sink !== null) {
      // A burst published without yielding to the event loop: hand it to the transport now,
      // whose buffer (and the kernel's) absorbs it, rather than hold it all until the flush.
      // Whether the consumer is too slow is then judged by what the transport still holds.
      writeQueued(conn)
      return
    }
    if (conn.queued > maxBuffered) {
      drop(conn)
      return
    }
    if (!conn.dirty) {
      conn.dirty = true
      dirty.push(conn)
      if (!flushScheduled) scheduleFlush()
    }
  }

  /**
   * Idle: flush on the next turn of the event loop. Busy (flushed less than `coalesceMs`
   * ago): wait out the window so the events arriving meanwhile share one write per
   * connection. Per-write cost dominates fan-out, so under load this multiplies throughput
   * for at most `coalesceMs` of added latency, and adds none at low rates.
   */
  function scheduleFlush(): void {
    flushScheduled = true
    const wait = coalesceMs - (performance.now() - lastFlushAt)
    if (wait <= 0) defer(flush)
    else flushTimer = setTimeout(flush, wait)
  }

  function flush(): void {
    flushScheduled = false
    flushTimer = undefined
    const batch = dirty
    dirty = []
    for (const conn of batch) {
      conn.dirty = false
      writeQueued(conn)
    }
    // The window starts when the writes end: a flush to many sockets can outlast it.
    lastFlushAt = performance.now()
  }

  function writeQueued(conn: Connection): void {
    const sink = conn.sink
    if (conn.state === 'closed' || sink === null || conn.queue.length === 0) return
    const chunk = conn.queue.length === 1 ? (conn.queue[0] as Uint8Array) : concat(conn.queue, conn.queued)
    conn.queue.length = 0
    conn.queued = 0
    sink.write(chunk)
    if (sink.bufferedBytes > maxBuffered) drop(conn)
  }

  function room(conn: Connection): Promise<void> {
    writeQueued(conn)
    return new Promise((resolve) => {
      // A transport's "room again" can come above that mark (a ReadableStream pulls whenever
      // it is below its own high-water mark): check again rather than overrun the cap.
      const check = () => {
        const sink = conn.sink
        if (conn.state === 'closed' || sink === null || sink.bufferedBytes <= maxBuffered / 2) resolve()
        else sink.onDrain(check)
      }
      check()
    })
  }

  /**
   * The reason goes after the backlog and the stream ends, so a slow but live client learns
   * why and reconnects at once; a transport still open after the grace period (a stalled
   * client) is torn down, so it cannot hold memory.
   */
  function drop(conn: Connection): void {
    const sink = conn.sink
    release(conn)
    options.dropped()
    if (sink === null) return
    sink.write(SLOW_CONSUMER)
    sink.end()
    dying.set(sink, performance.now() + dropGraceMs)
    if (dyingTimer === undefined) dyingTimer = setTimeout(sweepDying, dropGraceMs)
  }

  function sweepDying(): void {
    dyingTimer = undefined
    const now = performance.now()
    let next = Number.POSITIVE_INFINITY
    for (const [sink, deadline] of dying) {
      if (deadline <= now) {
        dying.delete(sink)
        sink.abort()
      } else next = Math.min(next, deadline)
    }
    if (dying.size > 0) dyingTimer = setTimeout(sweepDying, next - now)
  }

  return {
    enqueue,
    writeQueued,
    room,
    drop,
    close() {
      // Everything queued was written by the hub's close; a pending flush has nothing to do.
      if (flushTimer !== undefined) clearTimeout(flushTimer)
      if (dyingTimer !== undefined) clearTimeout(dyingTimer)
      for (const sink of dying.keys()) sink.abort()
      dying.clear()
    },
  }
}
