/**
 * Public types of the client.
 * @module
 */

/**
 * Event names mapped to their payload types; declare it once and share it with the server.
 *
 * @example
 * ```ts
 * type Events = { 'message.new': { text: string }; 'message.deleted': { id: string } }
 * const rt = createClient<Events>({ url: '/events', topics: ['room:42'] })
 * ```
 */
export type EventMap = Record<string, unknown>

/** The application's event type names, as `types` filters take them. */
export type EventType<Events extends EventMap> = keyof Events & string

/** Where an event came from, passed to every listener beside its payload. */
export interface EventMeta<Type extends string = string> {
  /** The event's log id; the client resumes after it. */
  readonly id: string
  readonly topic: string
  /** When the hub logged it, in milliseconds since the epoch. */
  readonly ts: number
  readonly type: Type
}

/**
 * The server could not resume from the client's position (`topic` absent: the whole
 * stream), or a source lost history for one topic. Refetch the state the events update.
 */
export interface ResetInfo {
  /** `evicted`, `unknown`, `malformed`, or a source's own reason such as `history_lost`. */
  readonly reason: string
  readonly topic?: string
}

/**
 * Who is connected to a topic (needs `presence: true`): the full list once per topic when
 * the stream opens, then one change at a time.
 */
export type PresenceInfo =
  | { readonly topic: string; readonly online: readonly string[] }
  | { readonly topic: string; readonly joined: string }
  | { readonly topic: string; readonly left: string }

/**
 * - `connecting`: before the first stream opened.
 * - `open`: receiving events.
 * - `reconnecting`: the stream dropped; the client waits out its backoff and resumes.
 * - `unauthorized`: the server answered 401; see {@link ClientOptions.onUnauthorized}.
 * - `closed`: `close()` was called, the signal aborted, or the server refused the request for good.
 */
export type ClientState = 'connecting' | 'open' | 'reconnecting' | 'unauthorized' | 'closed'

/** The two transports: a Server-Sent Events stream, or long-poll requests. */
export type Transport = 'sse' | 'poll'

/** Names `on` accepts: the application's event types and the client's own `reset` and `presence`. */
export type EventName<Events extends EventMap> = (keyof Events & string) | 'reset' | 'presence'

/** The listener `on(type, …)` takes, typed from the event map. */
export type Listener<Events extends EventMap, Type extends EventName<Events>> = Type extends 'reset'
  ? (info: ResetInfo) => void
  : Type extends 'presence'
    ? (info: PresenceInfo) => void
    : (data: Events[Type], meta: EventMeta<Type>) => void

/** Timer functions, injectable so tests can drive time. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** Headers sent with every request, or a function called before each one (to refresh a token). */
export type HeadersOption = Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>)

/**
 * Options of {@link createClient}. Only `url` and `topics` are required.
 *
 * @example
 * ```ts
 * const options: ClientOptions = {
 *   url: '/events',
 *   topics: ['room:42'],
 *   headers: async () => ({ authorization: `Bearer ${await token()}` }),
 *   onUnauthorized: async () => { await refreshToken(); return true },
 *   persist: 'session',
 *   ack: true,
 * }
 * ```
 */
export interface ClientOptions<Events extends EventMap = EventMap> {
  /**
   * The hub's endpoint; relative URLs resolve against the page. Give several (the nodes of
   * a hub on a shared log) to fail over: each reconnect goes to the next, with the same
   * position, so nothing is lost or repeated.
   */
  url: string | URL | readonly (string | URL)[]
  /** Topics to subscribe to; change them later with `update()`. */
  topics: readonly string[]
  /** Only these event types are sent; all when absent or empty. Names come from `Events`. */
  types?: readonly EventType<Events>[] | undefined
  /** Sent with every request; a function is called on every (re)connect. */
  headers?: HeadersOption | undefined
  /** The `credentials` mode of each request (`'include'` sends cookies cross-origin). @default 'same-origin' */
  credentials?: RequestCredentials | undefined
  /**
   * `'auto'` streams over SSE and falls back to long-poll when the stream fails
   * repeatedly or arrives buffered, trying SSE again later.
   * @default 'auto'
   */
  transport?: 'auto' | Transport | undefined
  /** Resume after this id instead of starting at the head of the log. */
  lastEventId?: string | undefined
  /**
   * Keep the last id in `sessionStorage` or `localStorage` (per URL and topics) and resume
   * from it after a page reload. Ignored where the storage does not exist.
   * @default false
   */
  persist?: 'session' | 'local' | false | undefined
  /** Acknowledge every received event to the server, in batches (`POST {url}`). @default false */
  ack?: boolean | undefined
  /** Ask for `rt.presence` events (SSE only), delivered to `on('presence', …)`. @default false */
  presence?: boolean | undefined
  /**
   * Called on 401 with the number of 401s in a row; refresh credentials (the `headers`
   * function runs again) and return `true` to retry, `false` to stay `unauthorized` until
   * `reconnect()`. Retries follow the backoff. Without it the client retries with backoff.
   */
  onUnauthorized?: ((attempt: number) => boolean | Promise<boolean>) | undefined
  /**
   * Errors the client cannot act on: a listener that threw, a request refused for good, an
   * unreadable message, a failed `headers` function or ack. Without it, listener errors
   * are rethrown asynchronously (as an event listener's would be) and the others dropped.
   */
  onError?: ((error: unknown) => void) | undefined
  /** Closes the client when it aborts. */
  signal?: AbortSignal | undefined
  /** Used for every request. @default globalThis.fetch */
  fetch?: typeof fetch | undefined
  /** @default globalThis.setTimeout and clearTimeout */
  timers?: Timers | undefined
  /** Source of jitter, in [0, 1). @default Math.random */
  random?: (() => number) | undefined
  /**
   * Reconnect delay before the server sends `retry:`; the backoff's base. Every duration
   * option must be a finite number of milliseconds up to 2^31-1 (what a timer holds), or
   * `createClient` throws `RtError('invalid_option')`.
   * @default 1_000
   */
  retryMs?: number | undefined
  /**
   * Shortest reconnect delay, whatever the server's `retry:` says; each delay is jittered
   * above it. (A fresh credential after a 401, a transport switch and `reconnect()` go at once.)
   * @default 100
   */
  minRetryMs?: number | undefined
  /** Longest reconnect delay, a server's `retry:` and `Retry-After` included. @default 30_000 */
  maxRetryMs?: number | undefined
  /** A stream that has not said `rt.connected` this long after the request counts as stalled (or buffered). @default 3_000 */
  connectTimeoutMs?: number | undefined
  /** How long the server may hold a long-poll request when nothing is new. @default 25_000 */
  pollTimeoutMs?: number | undefined
  /**
   * Shortest time between the starts of two long-poll requests in a row, jittered up to
   * twice as long: a server that answers at once (with few events or none) is polled at
   * that pace instead of back to back. A poll the server held longer, or an answer of 100
   * events or more (a page of a catch-up), is followed at once. `0` turns the floor off.
   * @default 250
   */
  minPollMs?: number | undefined
  /** In `'auto'`, failed streams in a row before falling back to long-poll. @default 3 */
  fallbackAfter?: number | undefined
  /**
   * In `'auto'`, how long to long-poll before trying SSE again; never sooner than a first
   * reconnect's backoff (at least `minRetryMs`, jittered), so `0` cannot make a failing
   * stream switch back and forth in a loop.
   * @default 60_000
   */
  sseRetryMs?: number | undefined
  /** How long acks are collected before one request sends them. @default 100 */
  ackDelayMs?: number | undefined
  /**
   * Most characters of one SSE message (its data) or one unfinished line the client holds;
   * a stream that sends more is dropped with `RtError('too_large')` and resumed.
   * @default 1_048_576
   */
  maxMessageSize?: number | undefined
}

/** What `update()` may change while the client runs. */
export interface ClientUpdate<Events extends EventMap = EventMap> {
  topics?: readonly string[] | undefined
  types?: readonly EventType<Events>[] | undefined
}

/**
 * A running client; create one with {@link createClient}.
 *
 * @example
 * ```ts
 * const off = rt.on('message.new', (message, meta) => render(message, meta.id))
 * rt.onState((state) => setOnline(state === 'open'))
 * rt.update({ topics: ['room:42', 'room:7'] })
 * off()
 * rt.close()
 * ```
 */
export interface Client<Events extends EventMap = EventMap> {
  /**
   * Calls `listener` for each event of `type`; returns the function that removes it.
   * `'reset'` and `'presence'` are the client's own events.
   */
  on<Type extends EventName<Events>>(type: Type, listener: Listener<Events, Type>): () => void
  /** Like `on`, for the next event only. */
  once<Type extends EventName<Events>>(type: Type, listener: Listener<Events, Type>): () => void
  /** Removes a listener added with `on`. */
  off<Type extends EventName<Events>>(type: Type, listener: Listener<Events, Type>): void
  /** Calls `listener` on each state change; returns the function that removes it. */
  onState(listener: (state: ClientState) => void): () => void
  /** Changes topics or types and reconnects from the current position: nothing is lost. */
  update(changes: ClientUpdate<Events>): void
  /** Drops the current request and reconnects now (also leaves `unauthorized`). */
  reconnect(): void
  /** Stops for good: aborts the request, flushes pending acks, removes every listener. */
  close(): void
  readonly state: ClientState
  /** The position the client resumes from. */
  readonly lastEventId: string | undefined
  /** The transport in use (or next to be tried). */
  readonly transport: Transport
}
