'use client'
/**
 * `useQueryEvents`: keeps a TanStack Query cache entry current from events.
 * @module
 */
import type { EventMap, EventMeta } from '@rt/client'
// The package's own entry, not its files: both entries must share one React context.
import { type RealtimeEvent, useRealtime, useTopics } from '@rt/react'
import { type QueryKey, useQueryClient } from '@tanstack/react-query'
import { useEffect, useRef } from 'react'

type Listen = (type: string, listener: (data: unknown, meta: EventMeta) => void) => () => void

/** Options of {@link useQueryEvents}. */
export interface QueryEventsOptions<TData, Events extends EventMap, Type extends keyof Events & string> {
  /** The query whose cached data the events update (matched exactly). */
  queryKey: QueryKey
  /** The event types that change it. */
  types: readonly Type[]
  /** Topics to follow while mounted (as `useTopics`). @default [] */
  topics?: readonly string[] | undefined
  /**
   * Returns the cached data with one event applied. Like `setQueryData`'s updater it must
   * not mutate, and it should tolerate an event the fetched data already holds (upsert by id).
   */
  update: (data: TData, event: RealtimeEvent<Events, Type>) => TData
}

/**
 * Keeps the cached data of `queryKey` current from the shared connection's events: each
 * event of `types` goes through `update` into the cache (`setQueryData`); an `rt.reset`
 * invalidates the query, so it refetches. An event that arrives while the query fetches
 * could be missing from the answer, so the query is fetched once more when that fetch
 * ends (never cancelled, so a busy stream cannot starve it).
 *
 * @example
 * ```tsx
 * const todos = useQuery({ queryKey: ['todos'], queryFn: fetchTodos })
 * useQueryEvents({
 *   queryKey: ['todos'],
 *   topics: ['todos'],
 *   types: ['todo.saved'],
 *   update: (list, event) => [...list.filter((t) => t.id !== event.data.id), event.data],
 * })
 * ```
 */
export function useQueryEvents<
  TData,
  Events extends EventMap = EventMap,
  Type extends keyof Events & string = keyof Events & string,
>(options: QueryEventsOptions<TData, Events, Type>): void {
  const store = useRealtime()
  const queryClient = useQueryClient()
  // The latest render's `update`, read when an event arrives.
  const latest = useRef(options)
  useEffect(() => {
    latest.current = options
  })
  useTopics(options.topics ?? [])
  const identity = JSON.stringify([options.queryKey, options.types])
  useEffect(() => {
    const [queryKey, types] = JSON.parse(identity) as [QueryKey, Type[]]
    const filters = { queryKey, exact: true }
    let stale = false
    const refetch = () => {
      stale = false
      void queryClient.invalidateQueries(filters, { cancelRefetch: false })
    }
    const offs = types.map((type) =>
      (store.on as Listen)(type, (data, meta) => {
        const state = queryClient.getQueryState<TData>(queryKey)
        if (state === undefined) return
        if (state.fetchStatus === 'fetching') {
          stale = true
          return
        }
        if (state.data === undefined) return
        const event = { type, data, id: meta.id, topic: meta.topic, ts: meta.ts } as RealtimeEvent<Events, Type>
        queryClient.setQueryData<TData>(queryKey, (current) =>
          current === undefined ? current : latest.current.update(current, event),
        )
      }),
    )
    offs.push(store.on('reset', refetch))
    // Refetches once a fetch that may have missed an event has ended.
    offs.push(
      queryClient.getQueryCache().subscribe((change) => {
        if (!stale || change.type !== 'updated' || change.query.queryHash !== hashOf(queryClient, queryKey)) return
        if (change.query.state.fetchStatus === 'idle') refetch()
      }),
    )
    return () => {
      for (const off of offs) off()
    }
  }, [store, queryClient, identity])
}

function hashOf(queryClient: ReturnType<typeof useQueryClient>, queryKey: QueryKey): string | undefined {
  return queryClient.getQueryCache().find({ queryKey, exact: true })?.queryHash
}
