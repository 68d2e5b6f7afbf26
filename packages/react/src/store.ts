/**
 * The provider's store: one client for the whole tree, created lazily in the browser, its
 * topics counted per component, and listeners that outlive a client being replaced.
 * No React in here, so it runs and is reasoned about on its own.
 * @module
 */
import {
  type Client,
  type ClientOptions,
  createClient,
  type EventMap,
  type EventName,
  type Listener,
  type PresenceInfo,
} from '@rt/client'
import type { ConnectionState, RealtimeOptions } from './types.js'

type AnyListener = (a: unknown, b?: unknown) => void

/**
 * The shared connection of a {@link RealtimeProvider}, as `useRealtime()` returns it.
 *
 * @example
 * ```ts
 * const rt = useRealtime<Events>()
 * useEffect(() => rt.on('message.new', (message) => notify(message.text)), [rt])
 * ```
 */
export interface Realtime<Events extends EventMap = EventMap> {
  /** The running client, or `undefined` while none runs (see {@link ConnectionState} `idle`). */
  readonly client: Client<Events> | undefined
  readonly state: ConnectionState
  /** The provider's client options; `undefined` when it was given a client only. */
  readonly options: RealtimeOptions | undefined
  /** Listens on the shared client (whichever runs now or later); returns the function that removes it. */
  on<Type extends EventName<Events>>(type: Type, listener: Listener<Events, Type>): () => void
  /** Calls `listener` when {@link Realtime.state} changes; returns the function that removes it. */
  onState(listener: () => void): () => void
  /** Follows `topics` until the returned function is called; counted, so topics wanted twice stay until both release. */
  addTopics(topics: readonly string[]): () => void
  /** Who is online in `topic` (needs a mounted `usePresence`); the same array until it changes. */
  online(topic: string): readonly string[]
  /** Calls `listener` when any online list changes. */
  onPresence(listener: () => void): () => void
  /** Asks for presence events until the returned function is called. */
  wantPresence(): () => void
  /** Keeps the store running until the returned function is called (the provider's mount). */
  retain(): () => void
}

const NOBODY: readonly string[] = Object.freeze([])

/** Creates the store behind a provider: from a client the app made, or from client options. */
export function createRealtimeStore<Events extends EventMap = EventMap>(source: {
  client?: Client<Events> | undefined
  options?: RealtimeOptions | undefined
}): Realtime<Events> {
  const options = source.options
  const own = source.client === undefined
  if (own && options === undefined) throw new TypeError('RealtimeProvider needs a `client` or `options`')
  if (options?.share && options.createClient === undefined) {
    throw new TypeError("RealtimeProvider: `share` needs `createClient` from '@rt/client/share'")
  }
  let client: Client<Events> | undefined = source.client
  let state: ConnectionState = client?.state ?? 'idle'
  /** Where a closed own client stopped, so the next one resumes there. */
  let position = options?.lastEventId
  const listeners = new Map<string, Set<AnyListener>>()
  const attached = new Map<string, () => void>()
  const stateListeners = new Set<() => void>()
  const presenceListeners = new Set<() => void>()
  const counts = new Map<string, number>()
  const online = new Map<string, readonly string[]>()
  let presenceWanted = 0
  let appliedTopics = ''
  let appliedPresence = false
  let offClient: Array<() => void> = []
  let scheduled = false
  let retained = 0

  const report = (error: unknown) => {
    if (options?.onError) options.onError(error)
    else
      queueMicrotask(() => {
        throw error
      })
  }

  function setState(next: ConnectionState): void {
    if (next === state) return
    state = next
    for (const listener of stateListeners) listener()
  }

  function dispatch(type: string, a: unknown, b?: unknown): void {
    const set = listeners.get(type)
    if (set === undefined) return
    for (const listener of [...set]) {
      try {
        listener(a, b)
      } catch (error) {
        report(error)
      }
    }
  }

  function attach(type: string): void {
    if (client === undefined || attached.has(type)) return
    const on = client.on as (type: string, listener: AnyListener) => () => void
    attached.set(
      type,
      on(type, (a, b) => dispatch(type, a, b)),
    )
  }

  function onPresenceInfo(info: PresenceInfo): void {
    const list = online.get(info.topic) ?? NOBODY
    let next: readonly string[] = list
    if ('online' in info) next = [...new Set(info.online)]
    else if ('joined' in info) next = list.includes(info.joined) ? list : [...list, info.joined]
    else next = list.filter((user) => user !== info.left)
    if (next === list) return
    online.set(info.topic, next)
    for (const listener of presenceListeners) listener()
  }

  function wantedTopics(): string[] {
    const all = new Set(options?.topics ?? [])
    for (const topic of counts.keys()) all.add(topic)
    return [...all].sort()
  }

  function detachClient(): void {
    for (const off of offClient) off()
    offClient = []
    for (const off of attached.values()) off()
    attached.clear()
  }

  function stopOwn(): void {
    if (!own || client === undefined) return
    position = client.lastEventId ?? position
    detachClient()
    client.close()
    client = undefined
    if (online.size > 0) {
      online.clear()
      for (const listener of presenceListeners) listener()
    }
    setState('idle')
  }

  function startOwn(topics: string[], presence: boolean): void {
    const { createClient: factory, ...settings } = options as RealtimeOptions
    const make = (factory ?? createClient) as (options: ClientOptions) => Client<Events>
    client = make({ ...settings, topics, presence, lastEventId: position })
    bind(client)
  }

  function bind(running: Client<Events>): void {
    offClient = [running.onState((next) => setState(next))]
    offClient.push(running.on('presence', onPresenceInfo))
    for (const type of listeners.keys()) attach(type)
    setState(running.state)
  }

  /** Brings the client in line with what is mounted; batched to once per microtask. */
  function apply(): void {
    scheduled = false
    if (retained === 0) {
      stopOwn()
      return
    }
    const topics = wantedTopics()
    const key = topics.join(',')
    const presence = presenceWanted > 0 || options?.presence === true
    if (!own) {
      // An app's own client keeps its topics until a component asks for some.
      if (counts.size > 0 && key !== appliedTopics) client?.update({ topics })
      appliedTopics = key
      return
    }
    // The server refuses a stream with no topics: no client until one is wanted.
    if (topics.length === 0) {
      stopOwn()
      return
    }
    if (client !== undefined && (client.state === 'closed' || presence !== appliedPresence)) stopOwn()
    if (client === undefined) startOwn(topics, presence)
    else if (key !== appliedTopics) client.update({ topics })
    appliedTopics = key
    appliedPresence = presence
  }

  function schedule(): void {
    if (scheduled) return
    scheduled = true
    // Mounts and unmounts of one commit (and StrictMode's double effects) land in one change.
    queueMicrotask(apply)
  }

  if (!own && client !== undefined) bind(client)

  return {
    get client() {
      return client
    },
    get state() {
      return state
    },
    options,
    on(type, listener) {
      let set = listeners.get(type)
      if (set === undefined) {
        set = new Set()
        listeners.set(type, set)
      }
      const added = listener as AnyListener
      set.add(added)
      attach(type)
      return () => {
        set.delete(added)
        if (set.size > 0 || listeners.get(type) !== set) return
        listeners.delete(type)
        attached.get(type)?.()
        attached.delete(type)
      }
    },
    onState(listener) {
      stateListeners.add(listener)
      return () => {
        stateListeners.delete(listener)
      }
    },
    addTopics(topics) {
      for (const topic of topics) counts.set(topic, (counts.get(topic) ?? 0) + 1)
      schedule()
      let released = false
      return () => {
        if (released) return
        released = true
        for (const topic of topics) {
          const count = (counts.get(topic) ?? 1) - 1
          if (count > 0) counts.set(topic, count)
          else {
            counts.delete(topic)
            if (online.delete(topic)) for (const listener of presenceListeners) listener()
          }
        }
        schedule()
      }
    },
    online: (topic) => online.get(topic) ?? NOBODY,
    onPresence(listener) {
      presenceListeners.add(listener)
      return () => {
        presenceListeners.delete(listener)
      }
    },
    wantPresence() {
      presenceWanted++
      schedule()
      let released = false
      return () => {
        if (released) return
        released = true
        presenceWanted--
        schedule()
      }
    },
    retain() {
      retained++
      schedule()
      let released = false
      return () => {
        if (released) return
        released = true
        retained--
        schedule()
      }
    },
  }
}
