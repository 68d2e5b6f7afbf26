/**
 * One stream per browser: a client that shares its connection with the other tabs of the
 * same origin, URL and name. One tab leads (`election.ts`) and holds the stream for the
 * union of every tab's topics; it relays what arrives over a BroadcastChannel, and each
 * tab keeps what its own topics ask for.
 * @module
 */
import { createClient as createCore, type Hooks } from '../client.js'
import { createCursor } from '../cursor.js'
import { RtError } from '../errors.js'
import { type Action, PRESENCE, RESET } from '../protocol.js'
import type { Client, ClientOptions, ClientState, ClientUpdate, EventMap, Timers, Transport } from '../types.js'
import { type Election, elect, type Vote } from './election.js'

/**
 * Options of the sharing {@link createClient}: those of `@rt/client`, and `share`.
 *
 * @example
 * ```ts
 * const rt = createClient<Events>({ url: '/events', topics: [`user:${userId}`], share: userId })
 * ```
 */
export interface SharedClientOptions extends ClientOptions {
  /**
   * Share one connection with the other tabs of this origin that use the same URL and the
   * same `share` value: `true`, or a name. Put the user in the name (`share: userId`) when
   * one browser may hold several sign-ins, so tabs of different users never share. Without
   * BroadcastChannel, or with `false`, the client is the plain one.
   * @default false
   */
  share?: boolean | string | undefined
}

/** What one tab asks for; the leader subscribes to the union. */
interface Wants {
  readonly topics: readonly string[]
  readonly types?: readonly string[] | undefined
  readonly presence?: boolean | undefined
}

/** The messages between tabs. `pos` is the leader's position after the message. */
type Relay =
  | { t: 'hi'; from: string; wants: Wants; ask?: boolean }
  | { t: 'bye'; from: string; lead: boolean }
  | { t: 'a'; a: Action; pos: string | undefined }
  | { t: 's'; s: ClientState; tr: Transport; pos: string | undefined }
  | { t: 'ack'; id: string }
  | { t: 'rc' }
  | Vote

type AnyListener = (a: unknown, b?: unknown) => void

const keyOf = (type: string) => (type === 'reset' || type === 'presence' ? `rt.${type}` : type)
const sorted = (lists: (readonly string[])[]) => [...new Set(lists.flat())].sort()

/**
 * Creates a client like `@rt/client`'s; with `share`, the tabs of one browser hold one
 * stream between them instead of one each (browsers allow six HTTP/1.1 connections per
 * origin). Listeners, `update`, `state` and `lastEventId` behave as on a tab of its own.
 *
 * @example
 * ```ts
 * import { createClient } from '@rt/client/share'
 * const rt = createClient<Events>({ url: '/events', topics: ['room:42'], share: true })
 * rt.on('message.new', (data) => render(data))
 * ```
 */
export function createClient<Events extends EventMap = EventMap>(options: SharedClientOptions): Client<Events> {
  const { share } = options
  if (!share || typeof BroadcastChannel !== 'function') return createCore<Events>(options)
  const urls = (Array.isArray(options.url) ? options.url : [options.url]).map(
    (url: string | URL) => new URL(url, globalThis.location?.href).href,
  )
  const name = `rt:${share === true ? '' : share}|${urls.join(' ')}`
  // Oldest first, so the fallback election keeps the tab that has led longest.
  const me = Date.now().toString(36) + Math.random().toString(36).slice(2)
  const timers: Timers = options.timers ?? {
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  }
  const channel = new BroadcastChannel(name)
  /** The other tabs and what they ask for. */
  const others = new Map<string, Wants>()
  let wants: Wants = { topics: options.topics, types: options.types, presence: options.presence }
  /** This tab's position (the leader's, as last relayed) and the ids it delivered. */
  const cursor = createCursor(options.lastEventId)
  const listeners = new Map<string, Set<AnyListener>>()
  const stateListeners = new Set<(state: ClientState) => void>()
  let state: ClientState = 'connecting'
  let everOpen = false
  let transport: Transport = options.transport === 'poll' ? 'poll' : 'sse'
  let leading: { core: Client; hooks: Hooks; key: string; presence: unknown; off: () => void } | undefined
  let election: Election | undefined

  const post = (message: Relay) => channel.postMessage(message)

  function call(listener: AnyListener, a: unknown, b?: unknown): void {
    try {
      listener(a, b)
    } catch (error) {
      const wrapped = new RtError('listener', 'a listener threw', { cause: error })
      if (options.onError) options.onError(wrapped)
      else
        queueMicrotask(() => {
          throw error
        })
    }
  }

  function emit(type: string, a: unknown, b?: unknown): void {
    const set = listeners.get(type)
    if (set !== undefined) for (const listener of set) call(listener, a, b)
  }

  function setState(next: ClientState): void {
    if (state === next || state === 'closed') return
    state = next
    everOpen ||= next === 'open'
    for (const listener of stateListeners) call(listener as AnyListener, next)
  }

  function ack(id: string): void {
    if (leading) leading.hooks.ack?.(id)
    else post({ t: 'ack', id })
  }

  /** Hands a relayed action to this tab's listeners when its topics and types ask for it. */
  function deliver(a: Action, pos: string | undefined): void {
    const mine = (topic: string | undefined) => topic !== undefined && wants.topics.includes(topic)
    if (a.kind === 'event') {
      if (mine(a.topic) && (!wants.types?.length || wants.types.includes(a.type)) && cursor.take(a.id)) {
        emit(a.type, a.data, { id: a.id, topic: a.topic, ts: a.ts, type: a.type })
        if (options.ack) ack(a.id)
      }
    } else if (a.kind === 'reset') {
      if (a.info.topic === undefined) {
        cursor.clear()
        emit(RESET, a.info)
      } else if (mine(a.info.topic) && (a.id === undefined || cursor.take(a.id))) emit(RESET, a.info)
    } else if (a.kind === 'presence' && wants.presence && mine(a.info.topic)) emit(PRESENCE, a.info)
    if (pos !== undefined) cursor.move(pos)
  }

  function union(): Wants {
    const all = [wants, ...others.values()]
    return {
      topics: sorted(all.map((w) => w.topics)),
      types: all.some((w) => !w.types?.length) ? undefined : sorted(all.map((w) => w.types ?? [])),
      presence: all.some((w) => w.presence),
    }
  }

  /** The leader's state, to this tab and the others; a stream refused for good closes them all. */
  function relayState(s: ClientState): void {
    const next = s === 'connecting' && everOpen ? 'reconnecting' : s
    post({ t: 's', s: next, tr: transport, pos: cursor.id })
    if (next === 'closed') close()
    else setState(next)
  }

  /** Opens the stream for every tab, from this tab's position: the newest it was relayed. */
  function start(): void {
    const u = union()
    const hooks: Hooks = {
      action(a) {
        if (leading?.core !== core) return
        const pos = core.lastEventId
        deliver(a, pos)
        post({ t: 'a', a, pos })
      },
    }
    const core: Client = createCore(
      { ...options, ...u, ack: true, lastEventId: cursor.id ?? options.lastEventId, signal: undefined },
      hooks,
    )
    const off = core.onState((s) => {
      transport = core.transport
      relayState(s)
    })
    leading = { core, hooks, key: JSON.stringify(u), presence: u.presence, off }
    relayState(state === 'open' ? 'reconnecting' : state)
  }

  function stepDown(): void {
    const was = leading
    leading = undefined
    was?.off()
    // Flushes its pending acks.
    was?.core.close()
  }

  /** Follows the union of every tab's topics and types; a change of presence needs a new stream. */
  function resync(): void {
    if (!leading) return
    const u = union()
    const key = JSON.stringify(u)
    if (key === leading.key) return
    if (u.presence !== leading.presence) {
      stepDown()
      start()
    } else {
      leading.key = key
      leading.core.update({ topics: u.topics, types: u.types })
    }
  }

  function join(): void {
    if (election || state === 'closed') return
    post({ t: 'hi', from: me, wants, ask: true })
    election = elect(name, me, post, timers, () => {
      start()
      return stepDown
    })
  }

  function leave(): void {
    post({ t: 'bye', from: me, lead: leading !== undefined })
    election?.stop()
    election = undefined
  }

  channel.onmessage = ({ data: m }: MessageEvent<Relay>) => {
    if (state === 'closed') return
    if (m.t === 'hi') {
      others.set(m.from, m.wants)
      if (m.ask) post({ t: 'hi', from: me, wants })
      if (leading) {
        resync()
        post({ t: 's', s: state, tr: transport, pos: cursor.id })
      }
    } else if (m.t === 'bye') {
      others.delete(m.from)
      resync()
    } else if (m.t === 'a') deliver(m.a, m.pos)
    else if (m.t === 's' && !leading) {
      transport = m.tr
      if (m.pos !== undefined) cursor.move(m.pos)
      if (m.s === 'closed') close()
      else setState(m.s)
    } else if (m.t === 'ack') leading?.hooks.ack?.(m.id)
    else if (m.t === 'rc') leading?.core.reconnect()
    election?.hear(m)
  }

  // A hidden page leaves (and comes back from the back/forward cache); a frozen leader
  // hands the stream over but stays a member, so what is relayed meanwhile waits for it.
  const onHide = () => leave()
  const onShow = (event: Event) => (event as PageTransitionEvent).persisted && join()
  const onFreeze = () => {
    if (!leading) return
    election?.stop()
    election = undefined
  }
  const doc = globalThis.document
  globalThis.addEventListener?.('pagehide', onHide)
  globalThis.addEventListener?.('pageshow', onShow)
  doc?.addEventListener('freeze', onFreeze)
  doc?.addEventListener('resume', join)

  function close(): void {
    if (state === 'closed') return
    leave()
    setState('closed')
    channel.close()
    listeners.clear()
    stateListeners.clear()
    globalThis.removeEventListener?.('pagehide', onHide)
    globalThis.removeEventListener?.('pageshow', onShow)
    doc?.removeEventListener('freeze', onFreeze)
    doc?.removeEventListener('resume', join)
    options.signal?.removeEventListener('abort', close)
  }

  function on(type: string, listener: AnyListener): () => void {
    const key = keyOf(type)
    let set = listeners.get(key)
    if (set === undefined) {
      set = new Set()
      listeners.set(key, set)
    }
    set.add(listener)
    return () => off(type, listener)
  }

  function off(type: string, listener: AnyListener): void {
    const key = keyOf(type)
    const set = listeners.get(key)
    set?.delete(listener)
    if (set?.size === 0) listeners.delete(key)
  }

  const client = {
    on,
    off,
    once(type: string, listener: AnyListener) {
      const remove = on(type, (a, b) => {
        remove()
        listener(a, b)
      })
      return remove
    },
    onState(listener: (state: ClientState) => void) {
      stateListeners.add(listener)
      return () => {
        stateListeners.delete(listener)
      }
    },
    update(changes: ClientUpdate) {
      wants = {
        ...wants,
        topics: changes.topics ?? wants.topics,
        types: 'types' in changes ? changes.types : wants.types,
      }
      post({ t: 'hi', from: me, wants })
      resync()
    },
    reconnect() {
      if (leading) leading.core.reconnect()
      else post({ t: 'rc' })
    },
    close,
    get state() {
      return state
    },
    get lastEventId() {
      return cursor.id
    },
    get transport() {
      return transport
    },
  }
  if (options.signal?.aborted) close()
  else {
    options.signal?.addEventListener('abort', close)
    join()
  }
  return client as unknown as Client<Events>
}
