'use client'
/**
 * `useEventList`: the newest events of a type, capped.
 * @module
 */
import type { EventMap } from '@rt/client'
import { useEffect, useState } from 'react'
import { listen, useStore } from './context.js'
import type { EventListOptions, RealtimeEvent } from './types.js'

const MAX_LIMIT = 100_000

/**
 * The events of `type` received since the component mounted, oldest first, keeping the
 * newest `max`.
 *
 * @example
 * ```tsx
 * const notices = useEventList('notice', { max: 20 })
 * return <ul>{notices.map((n) => <li key={n.id}>{n.data.text}</li>)}</ul>
 * ```
 */
export function useEventList<
  Events extends EventMap = EventMap,
  Type extends keyof Events & string = keyof Events & string,
>(type: Type, options: EventListOptions = {}): readonly RealtimeEvent<Events, Type>[] {
  const max = options.max ?? 100
  if (!Number.isInteger(max) || max < 1 || max > MAX_LIMIT) {
    throw new RangeError(`useEventList: max must be an integer from 1 to ${MAX_LIMIT}, got ${String(max)}`)
  }
  const store = useStore()
  const [list, setList] = useState<readonly RealtimeEvent<Events, Type>[]>([])
  useEffect(
    () =>
      listen(store, type, (data, meta) => {
        const event = { type, data, id: meta.id, topic: meta.topic, ts: meta.ts } as RealtimeEvent<Events, Type>
        setList((previous) =>
          previous.length < max ? [...previous, event] : [...previous.slice(previous.length - max + 1), event],
        )
      }),
    [store, type, max],
  )
  return list.length > max ? list.slice(list.length - max) : list
}
