/**
 * Live state without React: a snapshot, then every event after its cursor applied once,
 * and a new snapshot whenever the server says it cannot continue.
 * @module
 */
import type { LiveSnapshot, LiveState, LiveStatus } from './types.js'

/** What a live state gets told by the subscription that follows its cursor. */
export interface LiveFeed<E> {
  event(event: E & { readonly id: string }): void
  /** The server cannot continue from the position (`rt.reset`): take a new snapshot. */
  reset(): void
  error(error: unknown): void
}

/** How a live state is fed: functions read afresh on each use, so the latest render's are used. */
export interface LiveSetup<T, E> {
  /** Receives the events logged after `cursor`, in order, each once; returns the function that stops it. */
  follow(cursor: string, feed: LiveFeed<E>): () => void
  snapshot(): Promise<LiveSnapshot<T>>
  apply(state: T, event: E): T
  initial?: LiveSnapshot<T> | undefined
}

/** A live state's store, in the shape `useSyncExternalStore` wants. */
export interface LiveStore<T> {
  subscribe(listener: () => void): () => void
  get(): LiveState<T>
}

function checked<T>(value: LiveSnapshot<T>): LiveSnapshot<T> {
  if (typeof value !== 'object' || value === null || typeof value.cursor !== 'string' || value.cursor === '') {
    throw new TypeError('useLiveState: snapshot() must resolve to { data, cursor } with cursor from hub.head()')
  }
  return value
}

/**
 * Creates the store of one live state. Nothing happens until the first subscriber: no
 * request during server rendering. When the last subscriber leaves, the feed stops after
 * a microtask (StrictMode unmounts and mounts again at once); the position is kept, so a
 * later subscriber continues from the last applied event with no new snapshot.
 */
export function createLiveStore<T, E>(setup: LiveSetup<T, E>): LiveStore<T> {
  const listeners = new Set<() => void>()
  let position = setup.initial?.cursor
  let data = setup.initial?.data
  /** Bumped on every new snapshot and stop, so late answers of an older run are ignored. */
  let run = 0
  let stop: (() => void) | undefined
  let running = false

  const refetch = () => load()
  let value: LiveState<T> = { data, status: position === undefined ? 'loading' : 'live', error: undefined, refetch }

  function set(status: LiveStatus, error?: unknown): void {
    value = { data, status, error, refetch }
    for (const listener of listeners) listener()
  }

  function halt(): void {
    run++
    stop?.()
    stop = undefined
  }

  function fail(error: unknown): void {
    halt()
    set('error', error)
  }

  function follow(cursor: string): void {
    const mine = run
    position = cursor
    stop = setup.follow(cursor, {
      event(event) {
        if (mine !== run) return
        try {
          data = setup.apply(data as T, event)
        } catch (error) {
          fail(error)
          return
        }
        position = event.id
        set('live')
      },
      reset() {
        if (mine === run) load()
      },
      error(error) {
        if (mine === run) fail(error)
      },
    })
  }

  function load(): void {
    halt()
    const mine = run
    set(data === undefined ? 'loading' : 'resyncing')
    // In a microtask: a stop in the meantime (StrictMode's unmount) calls nothing.
    void Promise.resolve().then(async () => {
      if (mine !== run) return
      let snapshot: LiveSnapshot<T>
      try {
        snapshot = checked(await setup.snapshot())
      } catch (error) {
        if (mine === run) set('error', error)
        return
      }
      if (mine !== run) return
      data = snapshot.data
      set('live')
      follow(snapshot.cursor)
    })
  }

  function start(): void {
    running = true
    if (position !== undefined && value.status === 'live') follow(position)
    else load()
  }

  return {
    subscribe(listener) {
      listeners.add(listener)
      if (!running) start()
      return () => {
        listeners.delete(listener)
        if (listeners.size > 0) return
        queueMicrotask(() => {
          if (listeners.size > 0 || !running) return
          running = false
          halt()
        })
      }
    },
    get: () => value,
  }
}
