'use client'
/**
 * `useLiveState`: a snapshot and every event after its cursor, applied once.
 * @module
 */
import { createClient, type EventMap, type EventMeta, isRtError } from '@rt/client'
import { useMemo, useSyncExternalStore } from 'react'
import { useStore } from './context.js'
import { useLatest } from './latest-ref.js'
import { createLiveStore } from './live-state.js'
import type { Realtime } from './store.js'
import type { LiveState, LiveStateOptions, RealtimeEvent } from './types.js'

/**
 * Follows the log from `cursor` with a subscription of its own: only the server can order
 * log ids (they are opaque to clients), and resuming from a position is exactly what it
 * does, so every event after the cursor arrives once, in order, whatever the shared
 * connection is doing.
 */
function follower<Events extends EventMap, Type extends keyof Events & string>(
  store: Realtime,
  topics: readonly string[],
  types: readonly Type[],
) {
  return (
    cursor: string,
    feed: {
      event(event: RealtimeEvent<Events, Type>): void
      reset(): void
      error(error: unknown): void
    },
  ) => {
    const options = store.options
    if (options === undefined) {
      feed.error(new Error('useLiveState: give the RealtimeProvider `options` (the URL to subscribe to)'))
      return () => {}
    }
    // Never shared between tabs: the stream starts from this snapshot's own cursor.
    const { share: _share, createClient: _factory, ...settings } = options
    const client = createClient({
      ...settings,
      topics,
      types,
      lastEventId: cursor,
      persist: false,
      presence: false,
      ack: false,
      onError(error) {
        if (isRtError(error) && error.code === 'rejected') feed.error(error)
        else settings.onError?.(error)
      },
    })
    const on = client.on as (type: string, listener: (data: unknown, meta: EventMeta) => void) => () => void
    for (const type of types) {
      on(type, (data, meta) =>
        feed.event({ type, data, id: meta.id, topic: meta.topic, ts: meta.ts } as RealtimeEvent<Events, Type>),
      )
    }
    client.on('reset', () => feed.reset())
    return () => client.close()
  }
}

/** A live state needs topics and types: the server refuses a stream with no topics, and no type means no event. */
function checkList(name: string, list: readonly string[]): void {
  if (!Array.isArray(list) || list.length === 0 || list.some((item) => typeof item !== 'string' || item === '')) {
    throw new TypeError(`useLiveState: ${name} must be a non-empty array of non-empty strings`)
  }
}

/**
 * State that is a snapshot plus every event after it: calls `snapshot()` for
 * `{ data, cursor }` (cursor from `hub.head()`, read before the data), then applies each
 * event logged after the cursor exactly once, in order, through `apply`. An `rt.reset`
 * (the position cannot be continued) takes a new snapshot (`status: 'resyncing'`).
 * With `initial` (a snapshot rendered on the server) the page hydrates with its data and
 * continues from its cursor: no refetch, no gap. Nothing is fetched during server rendering.
 *
 * The events come over a subscription of this state's own, from its cursor; `apply` runs
 * outside rendering, once per event, even under StrictMode.
 *
 * @example
 * ```tsx
 * const { data, status } = useLiveState({
 *   key: ['room', roomId],
 *   topics: [`room:${roomId}`],
 *   types: ['message.new'],
 *   snapshot: () => fetch(`/api/rooms/${roomId}`).then((res) => res.json()),
 *   apply: (messages, event) => upsertById(messages, event.data),
 * })
 * ```
 */
export function useLiveState<
  T,
  Events extends EventMap = EventMap,
  Type extends keyof Events & string = keyof Events & string,
>(options: LiveStateOptions<T, Events, Type>): LiveState<T> {
  checkList('topics', options.topics)
  checkList('types', options.types)
  const store = useStore()
  const latest = useLatest(options)
  const identity = JSON.stringify([options.key, options.topics, options.types])
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new key (by its JSON) is a new state; `initial` belongs to the key it came with
  const live = useMemo(() => {
    const [, topics, types] = JSON.parse(identity) as [unknown, string[], Type[]]
    return createLiveStore<T, RealtimeEvent<Events, Type>>({
      follow: follower<Events, Type>(store, topics, types),
      snapshot: () => latest.current.snapshot(),
      apply: (state, event) => latest.current.apply(state, event),
      initial: options.initial,
    })
  }, [store, identity, latest])
  return useSyncExternalStore(live.subscribe, live.get, live.get)
}
