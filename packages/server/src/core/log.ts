/**
 * The delivery log contract: every event gets its id here.
 * @module
 */
import { hasControlChars, type ResetReason } from './wire.js'

/** An event as the log stores it. */
export interface LogEntry {
  /** Opaque, totally ordered within one log. */
  readonly id: string
  readonly type: string
  readonly topic: string
  /** User ids the event is limited to; absent means everyone subscribed to the topic. */
  readonly to?: readonly string[] | undefined
  readonly data: unknown
  /** Milliseconds since the epoch, when the log accepted the event. */
  readonly ts: number
  /** Idempotency key: a second append with the same key returns the first entry. */
  readonly key?: string | undefined
}

/** What {@link Log.append} takes: an entry without the fields the log assigns. */
export interface LogAppend {
  readonly type: string
  readonly topic: string
  readonly to?: readonly string[] | undefined
  readonly data: unknown
  readonly key?: string | undefined
}

/**
 * Who is reading, so a log can skip what that reader may not see: a client resuming on one
 * private topic reads what it missed, not every event of every user since its position.
 */
export interface LogFilter {
  /** The reader's topics: entries of other topics may be left out. */
  readonly topics: ReadonlySet<string>
  /**
   * The reader's user id: entries whose `to` does not name it may be left out. Absent (an
   * anonymous reader): every entry with `to` may be left out.
   */
  readonly userId?: string | undefined
}

/** The answer to {@link Log.read}. */
export type LogRead =
  | {
      readonly ok: true
      /** Entries after the requested id, oldest first. */
      readonly entries: readonly LogEntry[]
      /** More entries follow the last one returned (or `cursor`). */
      readonly more: boolean
      /**
       * Where the next read continues, when a filtered read looked past the last entry it
       * returned: every entry up to this id that passes the filter was returned. Never past
       * what listeners were told. Absent: the last entry returned (or the requested id).
       */
      readonly cursor?: string | undefined
    }
  | {
      readonly ok: false
      /** Why the id cannot be resumed from. */
      readonly reason: ResetReason
    }

/**
 * Entries the log lost before telling its listeners about them, such as events Redis pub/sub
 * published while this node was cut off. Subscribers that may have missed them start over.
 */
export interface LogGap {
  /** Delivery continues after this id: the position a reset subscriber resumes from. */
  readonly id: string
  readonly reason: ResetReason
}

/** The health of a log that depends on another service, shown by `hub.stats()`. */
export interface LogStatus {
  /** `degraded`: the service is unreachable; publishes wait (bounded) or fail. */
  readonly state: 'ok' | 'degraded'
  /** Why it is degraded, without credentials or server error text. */
  readonly detail?: string | undefined
  /** Appends accepted but not yet confirmed by the service. */
  readonly pending?: number | undefined
  /** Gaps signalled to subscribers since the log started. */
  readonly gaps?: number | undefined
}

/**
 * A delivery log. `memoryLog()` is the embedded default; durable and shared logs
 * (MongoDB, Redis) implement the same contract.
 *
 * The hub relies on four properties:
 * - an entry can be read before its listeners are told about it;
 * - listeners are told in log order;
 * - {@link Log.head} includes every entry listeners were already told about;
 * - a read answers only up to what listeners were told, so entries told while it runs
 *   come after its page. An id past that point fails the read with `unavailable` (a log
 *   tailed by each node: see {@link Log.catchUp}).
 */
export interface Log {
  /** Appends and assigns an id; a duplicate `key` returns the existing entry unchanged. */
  append(input: LogAppend): Promise<LogEntry>
  /**
   * Up to `limit` entries logged after `afterId`, or why that id cannot be resumed.
   *
   * With a `filter`, the log may leave out entries the filter rejects, and should, through an
   * index of its own, so the cost of a read follows what the reader may see. It must never
   * leave out an entry the filter accepts, and may return more (the hub filters again), so a
   * log that ignores `filter` is correct, only slower. When it skipped entries past the last
   * one it returned, it says where it got to in `cursor`. Whether `afterId` can be resumed
   * from (evicted, unknown, malformed) does not depend on the filter.
   */
  read(afterId: string, limit: number, filter?: LogFilter): Promise<LogRead>
  /**
   * Resolves once this node's listeners have been told every entry up to `afterId`: at once
   * when they have, or when the id is not one this log could reach (its read will say why).
   * For logs that each node tails (Redis, MongoDB), where a client may resume from an id
   * another node told first. The hub waits here before it collects the live entries of a
   * resuming stream: the entries the tail tells meanwhile are at or before the position and
   * must not be collected. Bounded by the log's own limit; never rejects. Logs whose
   * listeners are told as entries are appended (the in-memory log) leave it out.
   */
  catchUp?(afterId: string): Promise<void>
  /** The id of the newest entry (or of the log's origin when empty). */
  head(): string
  /**
   * Called with each new entry, in order. Returns the unsubscribe function. A log that can
   * lose entries before telling listeners (a pub/sub bus) calls `onGap` first, in order
   * with the entries; `head()` then is the gap's id.
   */
  subscribe(listener: (entry: LogEntry) => void, onGap?: (gap: LogGap) => void): () => void
  /**
   * The entries with these ids, where the log still holds them (`undefined` otherwise), in
   * the order asked. Lets the hub check that an ack names only events its sender was allowed
   * to receive; without it every acked id is reported as unverified.
   */
  lookup?(ids: readonly string[]): Promise<ReadonlyArray<LogEntry | undefined>>
  /** Health, for logs that depend on another service. */
  status?(): LogStatus
  /** Releases the log's resources. */
  close?(): Promise<void>
}

/**
 * Reads from any log on behalf of a client. No log issues ids with control characters, so
 * such an id is malformed whatever the log itself would make of it, and never reaches it.
 */
export function readLog(log: Log, afterId: string, limit: number, filter?: LogFilter): Promise<LogRead> {
  if (hasControlChars(afterId)) return Promise.resolve({ ok: false, reason: 'malformed' })
  return log.read(afterId, limit, filter)
}

/** {@link Log.catchUp} on behalf of a client, for the ids {@link readLog} would pass on. */
export async function catchUpLog(log: Log, afterId: string): Promise<void> {
  if (log.catchUp === undefined || hasControlChars(afterId)) return
  await log.catchUp(afterId).catch(() => {})
}

/** Whether an entry is for this user: it names no recipients (`to`), or names this one. */
export function addressedTo(entry: LogEntry, userId: string | undefined): boolean {
  return entry.to === undefined || (userId !== undefined && entry.to.includes(userId))
}

/** Whether an entry passes a read filter: one rule, for every log that filters in memory. */
export function matchesFilter(entry: LogEntry, filter: LogFilter): boolean {
  return filter.topics.has(entry.topic) && addressedTo(entry, filter.userId)
}
