'use client'
/**
 * `useConnectionState`: the shared connection's state.
 * @module
 */
import { useSyncExternalStore } from 'react'
import { useStore } from './context.js'
import type { ConnectionState } from './types.js'

const idle = (): ConnectionState => 'idle'

/**
 * The shared connection's state, re-rendering on each change: `idle` (no client yet, or
 * no topic wanted; always `idle` during server rendering), then the client's
 * `connecting`, `open`, `reconnecting`, `unauthorized` or `closed`.
 *
 * @example
 * ```tsx
 * const state = useConnectionState()
 * return state === 'open' ? null : <Banner>Reconnecting…</Banner>
 * ```
 */
export function useConnectionState(): ConnectionState {
  const store = useStore()
  return useSyncExternalStore(store.onState, () => store.state, idle)
}
