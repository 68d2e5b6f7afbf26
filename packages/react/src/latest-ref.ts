'use client'
/**
 * A ref that always holds the latest render's value, so callbacks stay current without
 * resubscribing.
 * @module
 */
import { type RefObject, useEffect, useLayoutEffect, useRef } from 'react'

// useLayoutEffect warns during server rendering (React 18); effects do not run there anyway.
const useIsomorphicLayoutEffect = typeof document === 'undefined' ? useEffect : useLayoutEffect

/** Returns a ref updated to `value` after every commit, before any effect reads it. */
export function useLatest<T>(value: T): RefObject<T> {
  const ref = useRef(value)
  useIsomorphicLayoutEffect(() => {
    ref.current = value
  })
  return ref
}
