'use client'
/**
 * `@rt/react/query`: keeps TanStack Query caches current from realtime events.
 * @module @rt/react/query
 */
import type { EventMap } from '@rt/client'
import { type QueryEventsOptions, useQueryEvents } from './use-query-events.js'

export { type QueryEventsOptions, useQueryEvents }

/** The query hooks of one event map, as {@link createQueryHooks} returns them. */
export interface QueryHooks<Events extends EventMap> {
  useQueryEvents<TData, Type extends keyof Events & string>(options: QueryEventsOptions<TData, Events, Type>): void
}

/**
 * Returns {@link useQueryEvents} typed from `Events`, like `createRealtimeHooks`.
 *
 * @example
 * ```ts
 * export const { useQueryEvents } = createQueryHooks<Events>()
 * ```
 */
export function createQueryHooks<Events extends EventMap>(): QueryHooks<Events> {
  return { useQueryEvents: useQueryEvents as QueryHooks<Events>['useQueryEvents'] }
}
