'use client'
import type { EventMeta } from '@rt/client'
/**
 * The React context that carries a provider's store, and the hook that reads it.
 * @module
 */
import { createContext, useContext } from 'react'
import type { Realtime } from './store.js'

export const RealtimeContext = createContext<Realtime | null>(null)

/** The nearest provider's store; throws outside a {@link RealtimeProvider}. */
export function useStore(): Realtime {
  const store = useContext(RealtimeContext)
  if (store === null) throw new Error('@rt/react: this hook needs a <RealtimeProvider> above it')
  return store
}

/** `store.on` without the event map's types, for hooks that pass payloads through as they are. */
export function listen(store: Realtime, type: string, listener: (data: unknown, meta: EventMeta) => void): () => void {
  return (store.on as (type: string, listener: (data: unknown, meta: EventMeta) => void) => () => void)(type, listener)
}
