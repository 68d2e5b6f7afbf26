/**
 * Public types of `@rt/react`.
 * @module
 */
import type { Client, ClientOptions, ClientState, EventMap } from '@rt/client'

/** Creates the provider's client: `createClient` from `@rt/client` or `@rt/client/share`. */
export type ClientFactory = (options: ClientOptions & { share?: boolean | string | undefined }) => Client<EventMap>

/**
 * Options of the client a {@link RealtimeProvider} creates: those of `createClient`, with
 * `topics` optional (topics the whole tree always follows; `useTopics` adds more).
 */
export type RealtimeOptions = Omit<ClientOptions, 'topics' | 'signal'> & {
  /** Topics followed for as long as the provider is mounted. @default [] */
  topics?: readonly string[] | undefined
  /**
   * One stream for the tabs of a browser: `true` or a name, passed to `createClient`. Needs
   * `createClient` from `@rt/client/share` (kept out of this package so apps that do not
   * share do not ship it). `useLiveState` keeps its own unshared stream: it starts from its
   * snapshot's cursor, which other tabs do not share.
   * @default false
   */
  share?: boolean | string | undefined
  /**
   * Makes the provider's shared client. Pass `createClient` from `@rt/client/share` with
   * `share`.
   * @default createClient from `@rt/client`
   */
  createClient?: ClientFactory | undefined
}

/**
 * The shared connection's state: the client's, or `idle` while no client runs (during
 * server rendering, before the first effect, and while no topic is wanted).
 */
export type ConnectionState = ClientState | 'idle'

/** One received event: its type, payload and where it sits in the log. */
export type RealtimeEvent<Events extends EventMap, Type extends keyof Events & string = keyof Events & string> = {
  [K in Type]: {
    readonly type: K
    readonly data: Events[K]
    /** The event's log id. */
    readonly id: string
    readonly topic: string
    /** When the hub logged it, in milliseconds since the epoch. */
    readonly ts: number
  }
}[Type]

/** A snapshot of application data and the log position it reflects (`hub.head()` read before the data). */
export interface LiveSnapshot<T> {
  readonly data: T
  /** The position to continue from: events logged after it are applied to `data`. */
  readonly cursor: string
}

/**
 * - `loading`: the first snapshot is on its way; `data` is `undefined`.
 * - `live`: `data` is the snapshot with every event after its cursor applied.
 * - `resyncing`: the server could not continue (`rt.reset`); a new snapshot is on its way
 *   and `data` is the last state until it arrives.
 * - `error`: `snapshot()` or `apply()` threw, or the server refused the subscription.
 */
export type LiveStatus = 'loading' | 'live' | 'resyncing' | 'error'

/** What `useLiveState` returns. */
export interface LiveState<T> {
  readonly data: T | undefined
  readonly status: LiveStatus
  /** Why `status` is `error`. */
  readonly error: unknown
  /** Takes a new snapshot now (after an error, or to start over). */
  refetch(): void
}

/**
 * Options of `useLiveState`.
 *
 * @example
 * ```ts
 * useLiveState({
 *   key: ['room', roomId],
 *   topics: [`room:${roomId}`],
 *   types: ['message.new', 'message.deleted'],
 *   snapshot: () => fetch(`/api/rooms/${roomId}/messages`).then((res) => res.json()),
 *   apply: (messages, event) => event.type === 'message.new'
 *     ? upsert(messages, event.data)
 *     : messages.filter((m) => m.id !== event.data.id),
 * })
 * ```
 */
export interface LiveStateOptions<T, Events extends EventMap, Type extends keyof Events & string> {
  /** Identifies the state: a new key takes a new snapshot. Compared by its JSON. */
  key: string | readonly unknown[]
  /** The topics whose events update the state. */
  topics: readonly string[]
  /** The event types `apply` handles; the server sends only these. */
  types: readonly Type[]
  /**
   * Loads the data and the log position it reflects. On the server, read `hub.head()`
   * BEFORE the data: a change made during the read is then applied again after it, so
   * `apply` must tolerate seeing such an event twice (upsert by id).
   */
  snapshot: () => Promise<LiveSnapshot<T>>
  /** Returns the state with one event applied; called once per event, outside rendering. */
  apply: (state: T, event: RealtimeEvent<Events, Type>) => T
  /**
   * A snapshot taken on the server (rendered into the page): used instead of calling
   * `snapshot()` when the hook creates the state for this `key`, so hydration continues
   * from its cursor with no refetch.
   */
  initial?: LiveSnapshot<T> | undefined
}

/** Options of `useEventList`. */
export interface EventListOptions {
  /** How many events are kept, newest last. @default 100 */
  max?: number | undefined
}
