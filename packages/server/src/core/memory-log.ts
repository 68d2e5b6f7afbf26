/**
 * The embedded in-memory log: a ring buffer, lost on restart.
 * @module
 */
import { RtError } from './errors.js'
import type { Log, LogAppend, LogEntry, LogRead } from './log.js'

/** Options of {@link memoryLog}. */
export interface MemoryLogOptions {
  /**
   * How many events are kept for resume. A client that was away for longer than that
   * gets `rt.reset`.
   * @default 10_000
   */
  capacity?: number
  /** Clock, for tests. @default Date.now */
  now?: () => number
}

const SEQ = /^\d{1,15}$/

function randomEpoch(): string {
  const bytes = new Uint8Array(6)
  crypto.getRandomValues(bytes)
  let out = ''
  for (const b of bytes) out += b.toString(36).padStart(2, '0')
  return out
}

/**
 * An in-memory delivery log. Ids look like `<epoch>-<seq>`: the epoch is random per log
 * instance, so an id from another process or from before a restart is recognised as
 * unknown and answered with `rt.reset`, never with silent loss.
 *
 * @example
 * ```ts
 * const hub = createHub({ log: memoryLog({ capacity: 50_000 }) })
 * ```
 */
export function memoryLog(options: MemoryLogOptions = {}): Log {
  const capacity = options.capacity ?? 10_000
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new RtError('invalid_option', `memoryLog: capacity must be a positive integer, got ${capacity}`)
  }
  const now = options.now ?? Date.now
  const epoch = randomEpoch()
  const ring: (LogEntry | undefined)[] = new Array(capacity)
  const byKey = new Map<string, LogEntry>()
  const listeners = new Set<(entry: LogEntry) => void>()
  /** Sequence of the newest entry; 0 when empty. Entry seqs start at 1. */
  let last = 0
  const idOf = (seq: number) => `${epoch}-${seq}`
  const oldest = () => Math.max(1, last - capacity + 1)

  return {
    async append(input: LogAppend): Promise<LogEntry> {
      if (input.key !== undefined) {
        const existing = byKey.get(input.key)
        if (existing) return existing
      }
      const seq = ++last
      const entry: LogEntry = {
        id: idOf(seq),
        type: input.type,
        topic: input.topic,
        to: input.to,
        data: input.data,
        ts: now(),
        key: input.key,
      }
      const slot = seq % capacity
      const evicted = ring[slot]
      if (evicted?.key !== undefined && byKey.get(evicted.key) === evicted) byKey.delete(evicted.key)
      ring[slot] = entry
      if (entry.key !== undefined) byKey.set(entry.key, entry)
      for (const listener of listeners) listener(entry)
      return entry
    },

    async read(afterId: string, limit: number): Promise<LogRead> {
      const dash = afterId.lastIndexOf('-')
      const seqText = afterId.slice(dash + 1)
      if (dash <= 0 || !SEQ.test(seqText)) return { ok: false, reason: 'malformed' }
      if (afterId.slice(0, dash) !== epoch) return { ok: false, reason: 'unknown' }
      const after = Number(seqText)
      if (after > last) return { ok: false, reason: 'unknown' }
      if (after < oldest() - 1) return { ok: false, reason: 'evicted' }
      const end = Math.min(last, after + limit)
      const entries: LogEntry[] = []
      for (let seq = after + 1; seq <= end; seq++) entries.push(ring[seq % capacity] as LogEntry)
      return { ok: true, entries, more: end < last }
    },

    async lookup(ids) {
      return ids.map((id) => {
        const dash = id.lastIndexOf('-')
        const seqText = id.slice(dash + 1)
        if (dash <= 0 || id.slice(0, dash) !== epoch || !SEQ.test(seqText)) return undefined
        const seq = Number(seqText)
        return seq >= oldest() && seq <= last ? ring[seq % capacity] : undefined
      })
    },

    head: () => idOf(last),

    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}
