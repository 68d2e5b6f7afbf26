/**
 * The wire protocol's names and shapes, in one place for both sides: the server writes
 * them, the client reads them. See docs/protocol.md. Bundled into `@rt/server` and
 * `@rt/client` when they are built, so neither depends on the other.
 * @module
 */

/** Prefix of the event types the server reserves for its control events. */
export const CONTROL_PREFIX = 'rt.'

/** The control events the server sends. */
export const ControlEvent = {
  connected: 'rt.connected',
  reset: 'rt.reset',
  closing: 'rt.closing',
  presence: 'rt.presence',
} as const

/**
 * Why a stream was reset. The first three: the requested id cannot be resumed from.
 * Sources add their own for one topic, such as `history_lost`.
 */
export type ResetReason = 'evicted' | 'unknown' | 'malformed' | (string & {})

/** One event in a long-poll answer. */
export interface PollEvent {
  readonly id: string
  readonly type: string
  readonly topic: string
  readonly ts: number
  readonly data: unknown
}

/** The JSON body of a long-poll answer. */
export interface PollAnswer {
  readonly events: readonly PollEvent[]
  /** The position to send next time (`lastEventId` or `Last-Event-ID`). */
  readonly lastEventId: string
  /** The requested position could not be resumed from: refetch state. */
  readonly reset: boolean
  readonly reason?: ResetReason
  /** The server's heartbeat interval, for the client's watchdog. */
  readonly heartbeatMs?: number
  /** The server's advised reconnect delay. */
  readonly retryMs?: number
}
