'use client'
/**
 * `useLatestEvent`: the newest event of a type.
 * @module
 */
import type { EventMap } from '@rt/client'
import { useEffect, useState } from 'react'
import { listen, useStore } from './context.js'
import type { RealtimeEvent } from './types.js'

/**
 * The newest event of `type` received since the component mounted, or `undefined`.
 *
 * @example
 * ```tsx
 * const last = useLatestEvent('price.changed')
 * return <span>{last?.data.price ?? '…'}</span>
 * ```
 */
export function useLatestEvent<
  Events extends EventMap = EventMap,
  Type extends keyof Events & string = keyof Events & string,
>(type: Type): RealtimeEvent<Events, Type> | undefined {
  const store = useStore()
  const [latest, setLatest] = useState<RealtimeEvent<Events, Type> | undefined>(undefined)
  useEffect(
    () =>
      listen(store, type, (data, meta) => {
        setLatest({ type, data, id: meta.id, topic: meta.topic, ts: meta.ts } as RealtimeEvent<Events, Type>)
      }),
    [store, type],
  )
  return latest
}
