'use client'
/**
 * `createRealtimeHooks<Events>()`: every hook typed from the app's event map.
 * @module
 */
import type { EventMap, EventName, Listener } from '@rt/client'
import type { ReactNode } from 'react'
import { RealtimeProvider, type RealtimeProviderProps } from './provider.js'
import type { Realtime } from './store.js'
import type { ConnectionState, EventListOptions, LiveState, LiveStateOptions, RealtimeEvent } from './types.js'
import { useConnectionState } from './use-connection-state.js'
import { useEvent } from './use-event.js'
import { useEventList } from './use-event-list.js'
import { useLatestEvent } from './use-latest-event.js'
import { useLiveState } from './use-live-state.js'
import { usePresence } from './use-presence.js'
import { useRealtime } from './use-realtime.js'
import { useTopics } from './use-topics.js'

/** The hooks of one event map, as {@link createRealtimeHooks} returns them. */
export interface RealtimeHooks<Events extends EventMap> {
  RealtimeProvider(props: RealtimeProviderProps<Events>): ReactNode
  useRealtime(): Realtime<Events>
  useEvent<Type extends EventName<Events>>(type: Type, handler: Listener<Events, Type>): void
  useConnectionState(): ConnectionState
  useLatestEvent<Type extends keyof Events & string>(type: Type): RealtimeEvent<Events, Type> | undefined
  useEventList<Type extends keyof Events & string>(
    type: Type,
    options?: EventListOptions,
  ): readonly RealtimeEvent<Events, Type>[]
  usePresence(topic: string): readonly string[]
  useTopics(topics: readonly string[]): void
  useLiveState<T, Type extends keyof Events & string>(options: LiveStateOptions<T, Events, Type>): LiveState<T>
}

/**
 * Returns every hook typed from `Events`, the map of event names to payloads the server
 * publishes: a wrong name or payload does not compile. Call it once in a module of your
 * app and import the hooks from there. (A factory rather than a global declaration: two
 * hubs with two event maps can live in one app, and the types come from one import.)
 *
 * @example
 * ```ts
 * // realtime.ts
 * type Events = { 'message.new': { id: string; text: string } }
 * export const { RealtimeProvider, useEvent, useLiveState, useTopics } = createRealtimeHooks<Events>()
 * ```
 */
export function createRealtimeHooks<Events extends EventMap>(): RealtimeHooks<Events> {
  return {
    RealtimeProvider: RealtimeProvider as RealtimeHooks<Events>['RealtimeProvider'],
    useRealtime: useRealtime as RealtimeHooks<Events>['useRealtime'],
    useEvent: useEvent as RealtimeHooks<Events>['useEvent'],
    useConnectionState,
    useLatestEvent: useLatestEvent as RealtimeHooks<Events>['useLatestEvent'],
    useEventList: useEventList as RealtimeHooks<Events>['useEventList'],
    usePresence,
    useTopics,
    useLiveState: useLiveState as RealtimeHooks<Events>['useLiveState'],
  }
}
