/**
 * Keeps the last id across page reloads.
 * @module
 */

/** Reads and writes one key; every failure (no storage, private mode, quota) is a no-op. */
export interface Store {
  get(key: string): string | undefined
  set(key: string, value: string): void
}

/** A store over `sessionStorage` or `localStorage`, or `undefined` where there is none. */
export function openStore(kind: 'session' | 'local' | false | undefined): Store | undefined {
  let storage: Storage | undefined
  try {
    // Reading the property itself throws in sandboxed frames.
    storage = kind ? globalThis[kind === 'local' ? 'localStorage' : 'sessionStorage'] : undefined
  } catch {}
  if (!storage) return
  const s = storage
  return {
    get(key) {
      try {
        return s.getItem(key) ?? undefined
      } catch {}
    },
    set(key, value) {
      try {
        s.setItem(key, value)
      } catch {}
    },
  }
}

/** The storage key of a subscription: the URL and the sorted topics. */
export function storeKey(url: URL, topics: readonly string[]): string {
  return `rt:${url.href}|${[...topics].sort().join(',')}`
}
