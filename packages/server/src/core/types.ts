/**
 * Public types of the hub.
 * @module
 */
import type { Log, LogStatus } from './log.js'
import type { OriginsOption } from './origins.js'
import type { PresenceBackend } from './presence.js'

/** Event names mapped to their payload types, declared once and shared with the client. */
export type EventMap = Record<string, unknown>

/** Who a connection belongs to, as returned by `authenticate`. */
export interface Identity {
  /** Used by `to` targeting, the per-identity connection cap and presence. */
  readonly userId?: string | undefined
}

/**
 * The request as the hub sees it, whatever the framework. Adapters build it;
 * `raw` is the framework's own request (Node `IncomingMessage`, Web `Request`, Fastify request).
 */
export interface RtRequest {
  readonly method: string
  readonly url: URL
  readonly headers: { get(name: string): string | null }
  readonly raw: unknown
  /** Aborts when the client goes away; lets a waiting long-poll request end early. */
  readonly signal?: AbortSignal | undefined
  /** Reads the request body as text, failing past `limit` bytes (for `POST` acks). */
  readonly readBody?: ((limit: number) => Promise<string>) | undefined
}

/** What `hub.publish` takes, typed from the hub's event map. */
export type PublishInput<Events extends EventMap = EventMap> = {
  [K in keyof Events & string]: {
    /** The SSE event name; must not start with `rt.` or hold control characters. */
    readonly type: K
    /** Subscribers of this topic receive the event; no commas or control characters. */
    readonly topic: string
    /** Any JSON-serialisable value. */
    readonly data: Events[K]
    /** Restrict delivery to these user ids (who must also be subscribed to the topic). */
    readonly to?: string | readonly string[] | undefined
    /** Idempotency key: publishing the same key twice logs the event once. */
    readonly key?: string | undefined
  }
}[keyof Events & string]

/** Timer functions, injectable so tests can drive time. */
export interface Timers {
  setInterval(fn: () => void, ms: number): unknown
  clearInterval(handle: unknown): void
  setTimeout?(fn: () => void, ms: number): unknown
  clearTimeout?(handle: unknown): void
}

/** What the hub knows about the ids an {@link AckListener} receives. */
export interface AckMeta {
  /**
   * The single id is the position a client resumed from: it acknowledges every event up
   * to it that this identity was allowed (and asked) to receive, not every event of the log.
   */
  readonly cumulative: boolean
  /**
   * `true`: each id is in the log and names an event this identity was allowed to receive
   * (for `cumulative`, the position is one the log resumed from). `false`: the log no longer
   * holds these ids (or cannot look them up), so they are the client's word only. Ids of
   * events the identity was not allowed to receive are never reported.
   */
  readonly verified: boolean
}

/**
 * Receives acknowledgements: ids a client says it processed (`POST` with `{ ack: [...] }`),
 * or, with `cumulative`, the id a client resumed from. One ack request makes at most two
 * calls: the verified ids, then the unverified ones (see {@link AckMeta}). A rejection
 * answers the ack request with 500 so the client retries.
 */
export type AckListener<Id extends Identity = Identity> = (
  identity: Id,
  ids: readonly string[],
  meta: AckMeta,
) => void | Promise<void>

/** Options of `createHub`. */
export interface HubOptions<Id extends Identity = Identity> {
  /** Where events get their ids and are kept for resume. @default memoryLog() */
  log?: Log
  /**
   * Shares presence with other nodes, so `hub.presence.online()` and `rt.presence` events
   * cover the whole cluster (e.g. `redisPresence` from `@rt/server/redis`). Closed with the hub.
   * @default this process only
   */
  presence?: PresenceBackend
  /**
   * Identifies the caller before any stream opens; `null` answers 401.
   * @default every request is anonymous (`{}`)
   */
  authenticate?: (req: RtRequest) => Id | null | Promise<Id | null>
  /** May this identity subscribe to this topic? `false` answers 403. @default always true */
  authorize?: (identity: Id, topic: string) => boolean | Promise<boolean>
  /**
   * Browser origins allowed to use the endpoint from another origin (cookies included):
   * exact origins such as `'https://app.example.com'`, or a function deciding per origin.
   * They get CORS headers on streams, long-poll and acks, and their preflights are
   * answered. Any other cross-site request that carries cookies or `authorization`, and any
   * other cross-site `POST`, is refused with 403.
   * @default none: same-origin only for requests with credentials
   */
  origins?: OriginsOption
  /** Interval of the comment lines that keep idle streams alive. @default 15_000 */
  heartbeatMs?: number
  /** The `retry:` reconnect delay advertised to clients. @default 1_000 */
  retryMs?: number
  /** Open streams allowed per `userId`; more answer 429. @default 32 */
  maxConnectionsPerIdentity?: number
  /** Open streams allowed in total; more answer 503. @default 100_000 */
  maxConnections?: number
  /**
   * Bytes a connection may have queued but not yet sent. A consumer above it is
   * disconnected: `rt.closing` with reason `slow_consumer` follows its backlog and the stream
   * ends (torn down after `heartbeatMs` if the client never reads that far); it resumes
   * from the log when it reconnects.
   * @default 1_048_576
   */
  maxBufferedBytes?: number
  /**
   * Under load, how long writes to a connection may wait to be coalesced, in ms. A hub
   * that flushed within this window delays its next flush to the window's end, so events
   * published meanwhile share one write; an idle hub writes on the next tick. `0` writes
   * every tick.
   * @default 4
   */
  coalesceMs?: number
  /** Longest a long-poll request waits for new events, in ms. @default 25_000 */
  pollTimeoutMs?: number
  /** Topics one request may subscribe to; more answer 400. @default 100 */
  maxTopics?: number
  /** Longest query string accepted; longer answers 400. @default 8_192 */
  maxQueryLength?: number
  /** Called with errors thrown by hooks and sources. Never sent to clients. */
  onError?: (error: unknown) => void
  /** @internal Timers for tests. */
  timers?: Timers
}

/** The state of an attached source, shown by `hub.stats()` and the health handler. */
export interface SourceStatus {
  /** `standby`: waiting for a lease another node holds. */
  readonly state: 'starting' | 'running' | 'standby' | 'stopped' | 'failed'
  /** When the source last delivered an event (ms since epoch). */
  readonly lastEventAt?: number | undefined
  /** How far behind its origin the source is, in ms, when it can tell. */
  readonly lagMs?: number | undefined
  /** The failure, for `failed`. */
  readonly error?: string | undefined
}

/** What a source gets from the hub when it starts. */
export interface SourceContext<Events extends EventMap = EventMap> {
  /** Logs and delivers an event; pass a `key` derived from the source's position. */
  publish(input: PublishInput<Events>): Promise<string>
  /**
   * Logs an `rt.reset` for a topic: every subscriber of it (live, or resuming past this
   * point later) is told to refetch state, e.g. after a change stream lost its history.
   * Resolves to the reset's log id.
   */
  reset(topic: string, reason: string, key?: string): Promise<string>
  /** Reports a failure that the source cannot recover from; visible in stats. */
  reportError(error: unknown): void
}

/** A feed of events into the hub, such as a MongoDB change stream. */
export interface Source<Events extends EventMap = EventMap> {
  readonly name: string
  start(context: SourceContext<Events>): void | Promise<void>
  stop(): void | Promise<void>
  status?(): SourceStatus
}

/** A snapshot of the hub, for dashboards and probes. */
export interface HubStats {
  readonly closed: boolean
  /** Open streams, plus long-poll requests waiting for events. */
  readonly connections: number
  /** Open streams per topic. */
  readonly topics: Readonly<Record<string, number>>
  /** Open streams per user id. */
  readonly users: Readonly<Record<string, number>>
  /** Events appended through this hub. */
  readonly published: number
  /** Event copies handed to connections and long-poll answers. */
  readonly delivered: number
  /** Connections closed by the hub because they fell behind. */
  readonly dropped: number
  /** The log's health, when it depends on another service (Redis). */
  readonly log?: LogStatus | undefined
  readonly sources: ReadonlyArray<{ readonly name: string } & SourceStatus>
}
