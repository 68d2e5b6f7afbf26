'use client'
/**
 * `useEvent`: calls a handler for each event of a type.
 * @module
 */
import type { EventMap, EventName, Listener } from '@rt/client'
import { useEffect } from 'react'
import { listen, useStore } from './context.js'
import { useLatest } from './latest-ref.js'

/**
 * Calls `handler` for each event of `type` on the shared connection. The latest render's
 * handler is called: a new handler identity neither resubscribes nor reconnects.
 *
 * @example
 * ```ts
 * useEvent('message.new', (message, meta) => toast(`${message.author}: ${message.text}`))
 * ```
 */
export function useEvent<Events extends EventMap = EventMap, Type extends EventName<Events> = EventName<Events>>(
  type: Type,
  handler: Listener<Events, Type>,
): void {
  const store = useStore()
  const latest = useLatest(handler as (a: unknown, b?: unknown) => void)
  useEffect(() => listen(store, type, (a, b) => latest.current(a, b)), [store, type, latest])
}
