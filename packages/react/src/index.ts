'use client'
/**
 * `@rt/react`: one shared realtime connection for a React tree, hooks over it, and live
 * state that continues a snapshot from its log position.
 * @module @rt/react
 */
export { createRealtimeHooks, type RealtimeHooks } from './create-hooks.js'
export { RealtimeProvider, type RealtimeProviderProps } from './provider.js'
export { createRealtimeStore, type Realtime } from './store.js'
export type {
  ClientFactory,
  ConnectionState,
  EventListOptions,
  LiveSnapshot,
  LiveState,
  LiveStateOptions,
  LiveStatus,
  RealtimeEvent,
  RealtimeOptions,
} from './types.js'
export { useConnectionState } from './use-connection-state.js'
export { useEvent } from './use-event.js'
export { useEventList } from './use-event-list.js'
export { useLatestEvent } from './use-latest-event.js'
export { useLiveState } from './use-live-state.js'
export { usePresence } from './use-presence.js'
export { useRealtime } from './use-realtime.js'
export { useTopics } from './use-topics.js'
