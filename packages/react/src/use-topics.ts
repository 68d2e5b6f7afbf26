'use client'
/**
 * `useTopics`: follow topics while a component is mounted.
 * @module
 */
import { useEffect } from 'react'
import { useStore } from './context.js'

/**
 * Subscribes the shared connection to `topics` while the component is mounted. Topics
 * are counted across components: all of them share one connection, which reconnects
 * once per commit that changes the set, from the same position (nothing lost).
 *
 * @example
 * ```ts
 * useTopics([`room:${roomId}`])
 * ```
 */
export function useTopics(topics: readonly string[]): void {
  const store = useStore()
  const key = JSON.stringify(topics)
  useEffect(() => store.addTopics(JSON.parse(key) as string[]), [store, key])
}
