'use client'
/**
 * `RealtimeProvider`: one shared client for the tree below it.
 * @module
 */
import type { Client, EventMap } from '@rt/client'
import { type ReactNode, useEffect, useState } from 'react'
import { RealtimeContext } from './context.js'
import { createRealtimeStore, type Realtime } from './store.js'
import type { RealtimeOptions } from './types.js'

/** Props of {@link RealtimeProvider}: a client the app made, or options for one the provider makes. */
export type RealtimeProviderProps<Events extends EventMap = EventMap> = {
  children?: ReactNode
} & (
  | {
      /**
       * Options of the client the provider creates in the browser, after mounting (never
       * during server rendering), once some topic is wanted. Read once, on mount: give the
       * provider a new `key` to start over with other options.
       */
      options: RealtimeOptions
      /** A client the app created and closes itself; `options` then serve `useLiveState` only. */
      client?: Client<Events> | undefined
    }
  | { client: Client<Events>; options?: RealtimeOptions | undefined }
)

/**
 * Makes one client available to the hooks below. With `options` the provider creates the
 * client lazily in the browser, subscribes it to the topics the mounted components want
 * (`useTopics`, `usePresence`, plus `options.topics`), reconnects once per change from the
 * same position, and closes it on unmount. StrictMode's double mount opens one connection.
 *
 * @example
 * ```tsx
 * <RealtimeProvider options={{ url: '/events', topics: ['news'] }}>
 *   <App />
 * </RealtimeProvider>
 * ```
 */
export function RealtimeProvider<Events extends EventMap = EventMap>(props: RealtimeProviderProps<Events>): ReactNode {
  const [store] = useState(() => createRealtimeStore<Events>({ client: props.client, options: props.options }))
  useEffect(() => store.retain(), [store])
  return <RealtimeContext.Provider value={store as unknown as Realtime}>{props.children}</RealtimeContext.Provider>
}
