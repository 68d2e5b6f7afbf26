'use client'
/**
 * `usePresence`: who is connected to a topic.
 * @module
 */
import { useCallback, useEffect, useSyncExternalStore } from 'react'
import { useStore } from './context.js'

const NOBODY: readonly string[] = Object.freeze([])
const nobody = () => NOBODY

/**
 * The user ids connected to `topic`, across the hub's nodes; follows the topic and asks
 * for presence events while mounted. Needs a provider created with `options` (a client
 * the app made must have been created with `presence: true`). Empty during server rendering.
 *
 * @example
 * ```tsx
 * const online = usePresence(`room:${roomId}`)
 * return <span>{online.length} online</span>
 * ```
 */
export function usePresence(topic: string): readonly string[] {
  const store = useStore()
  useEffect(() => {
    const release = store.addTopics([topic])
    const unwant = store.wantPresence()
    return () => {
      unwant()
      release()
    }
  }, [store, topic])
  const get = useCallback(() => store.online(topic), [store, topic])
  return useSyncExternalStore(store.onPresence, get, nobody)
}
