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

/** The answer to {@link Log.read}. */
export type LogRead =
  | {
      readonly ok: true
      /** Entries after the requested id, oldest first. */
      readonly entries: readonly LogEntry[]
      /** More entries follow the last one returned. */
      readonly more: boolean
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
 * The hub relies on three properties:
 * - an entry can be read before its listeners are told about it;
 * - listeners are told in log order;
 * - {@link Log.head} includes every entry listeners were already told about.
 */
export interface Log {
  /** Appends and assigns an id; a duplicate `key` returns the existing entry unchanged. */
  append(input: LogAppend): Promise<LogEntry>
  /** Up to `limit` entries logged after `afterId`, or why that id cannot be resumed. */
  read(afterId: string, limit: number): Promise<LogRead>
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
export function readLog(log: Log, afterId: string, limit: number): Promise<LogRead> {
  if (hasControlChars(afterId)) return Promise.resolve({ ok: false, reason: 'malformed' })
  return log.read(afterId, limit)
}
