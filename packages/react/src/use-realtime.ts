'use client'
/**
 * `useRealtime`: the provider's shared connection.
 * @module
 */
import type { EventMap } from '@rt/client'
import { useStore } from './context.js'
import type { Realtime } from './store.js'

/**
 * The shared connection of the nearest {@link RealtimeProvider}: listen with `on`, read
 * `state`, or reach the running `client`. Stable for the provider's lifetime.
 *
 * @example
 * ```ts
 * const rt = useRealtime()
 * useEffect(() => rt.on('reset', () => refetchAll()), [rt])
 * ```
 */
export function useRealtime<Events extends EventMap = EventMap>(): Realtime<Events> {
  return useStore() as unknown as Realtime<Events>
}
