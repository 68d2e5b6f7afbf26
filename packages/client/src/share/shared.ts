/**
 * One stream per browser: tabs of the same origin, URL and `share` name hold one
 * connection between them. One tab leads (`election.ts`) and holds the stream for the
 * union of every tab's topics; it relays each message over a BroadcastChannel, and every
 * tab, the leader's own included, is a client fed with the messages its topics ask for.
 * @module
 */
import { CONTROL_PREFIX } from '@rt/protocol'
import { createClient as createCore, type Hooks, resolveUrls } from '../client.js'
import { type Message, PRESENCE, RESET } from '../protocol.js'
import type { Client, ClientOptions, ClientState, ClientUpdate, EventMap, Timers } from '../types.js'
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

/** The messages between tabs. `pos` is the shared connection's position after `m`. */
type Relay =
  | { t: 'hi'; from: string; wants: Wants; ask?: boolean }
  | { t: 'bye'; from: string; lead: boolean }
  | { t: 'm'; m: Message; pos: string | undefined }
  | { t: 's'; s: ClientState; pos: string | undefined }
  | { t: 'rc' }
  | Vote

const sorted = (lists: (readonly string[])[]) => [...new Set(lists.flat())].sort()

/**
 * Creates a client like `@rt/client`'s; with `share`, the tabs of one browser hold one
 * stream between them instead of one each (browsers allow six HTTP/1.1 connections per
 * origin). Listeners, acks, `persist`, `update`, `state` and `lastEventId` behave as on a
 * tab of its own.
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
  const name = `rt:${share === true ? '' : share}|${resolveUrls(options.url).join(' ')}`
  // Oldest first, so the fallback election keeps the tab that has led longest.
  const me = String(Date.now() + Math.random())
  const channel = new BroadcastChannel(name)
  /** The other tabs and what they ask for. */
  const others = new Map<string, Wants>()
  let wants: Wants = { topics: options.topics, types: options.types, presence: options.presence }
  /** The shared connection's position, as last relayed: where a new leader resumes. */
  let pos: string | undefined
  let feed: (message: Message) => void = () => {}
  let setState: (state: ClientState) => void = () => {}
  /** The shared connection, while this tab leads. */
  let conn: { core: Client; key: string; presence: unknown; off: () => void } | undefined
  let election: Election | undefined

  const post = (message: Relay) => channel.postMessage(message)
  const hooks: Hooks = {
    drive(receive, set) {
      feed = receive
      setState = set
    },
  }
  const tab = createCore<Events>({ ...options, signal: undefined }, hooks)

  /** Feeds a relayed message to this tab when its topics and types ask for it. */
  function deliver(m: Message, at: string | undefined): void {
    const { topics, types, presence } = wants
    const topic = (m.data as { topic?: string } | null)?.topic
    // A reset without a topic is for the whole stream; every other message names its topic.
    if (topic === undefined || topics.includes(topic)) {
      const type = m.type
      if (
        type === PRESENCE
          ? presence
          : type === RESET || (!type.startsWith(CONTROL_PREFIX) && (!types?.length || types.includes(type)))
      ) {
        feed(m)
      }
    }
    if (at !== undefined) pos = at
  }

  function union(): Wants {
    const all = [wants, ...others.values()]
    return {
      topics: sorted(all.map((w) => w.topics)),
      types: all.every((w) => w.types?.length) ? sorted(all.map((w) => w.types ?? [])) : undefined,
      presence: all.some((w) => w.presence),
    }
  }

  /** The connection's state, to this tab and the others; a stream refused for good closes them all. */
  function relayState(s: ClientState): void {
    const next = s === 'connecting' && tab.state !== 'connecting' ? 'reconnecting' : s
    post({ t: 's', s: next, pos })
    if (next === 'closed') tab.close()
    else setState(next)
  }

  /** Opens the stream for every tab, from the last position relayed to this one. */
  function start(): void {
    const u = union()
    const core: Client = createCore(
      {
        ...options,
        ...u,
        ack: false,
        persist: false,
        lastEventId: pos ?? tab.lastEventId,
        signal: undefined,
      },
      {
        tap(m) {
          if (conn?.core !== core) return
          const at = core.lastEventId
          deliver(m, at)
          post({ t: 'm', m, pos: at })
        },
      },
    )
    conn = { core, key: JSON.stringify(u), presence: u.presence, off: core.onState(relayState) }
    relayState('connecting')
  }

  function stepDown(): void {
    const was = conn
    conn = undefined
    was?.off()
    was?.core.close()
  }

  /** Follows the union of every tab's topics and types; a change of presence needs a new stream. */
  function resync(): void {
    if (!conn) return
    const u = union()
    const key = JSON.stringify(u)
    if (key === conn.key) return
    if (u.presence !== conn.presence) {
      stepDown()
      start()
    } else {
      conn.key = key
      conn.core.update({ topics: u.topics, types: u.types })
    }
  }

  function join(): void {
    if (election || tab.state === 'closed') return
    post({ t: 'hi', from: me, wants, ask: true })
    election = elect(name, me, post, options.timers ?? (globalThis as unknown as Timers), () => {
      start()
      return stepDown
    })
  }

  function leave(): void {
    post({ t: 'bye', from: me, lead: conn !== undefined })
    election?.stop()
    election = undefined
  }

  channel.onmessage = ({ data: m }: MessageEvent<Relay>) => {
    if (m.t === 'hi') {
      others.set(m.from, m.wants)
      if (m.ask) post({ t: 'hi', from: me, wants })
      if (conn) {
        resync()
        post({ t: 's', s: tab.state, pos })
      }
    } else if (m.t === 'bye') {
      others.delete(m.from)
      resync()
    } else if (m.t === 'm') deliver(m.m, m.pos)
    else if (m.t === 's' && !conn) {
      if (m.pos !== undefined) pos = m.pos
      if (m.s === 'closed') tab.close()
      else setState(m.s)
    } else if (m.t === 'rc') conn?.core.reconnect()
    election?.hear(m)
  }

  // A hidden page leaves, and joins again if it comes back (back/forward cache). A frozen
  // leader hands the stream over but stays a member, so what is relayed meanwhile waits for it.
  const doc = globalThis.document
  const lifecycle = [
    [globalThis, 'pagehide', leave],
    [globalThis, 'pageshow', join],
    [
      doc,
      'freeze',
      () => {
        if (!conn) return
        election?.stop()
        election = undefined
      },
    ],
    [doc, 'resume', join],
  ] as const
  const listen = (on: boolean) => {
    for (const [target, type, fn] of lifecycle) target?.[on ? 'addEventListener' : 'removeEventListener']?.(type, fn)
  }

  const { close, update } = tab
  Object.assign(tab, {
    update(changes: ClientUpdate) {
      update(changes)
      wants = {
        ...wants,
        topics: changes.topics ?? wants.topics,
        types: 'types' in changes ? changes.types : wants.types,
      }
      post({ t: 'hi', from: me, wants })
      resync()
    },
    reconnect() {
      if (conn) conn.core.reconnect()
      else post({ t: 'rc' })
    },
    close() {
      if (tab.state === 'closed') return
      leave()
      channel.close()
      listen(false)
      options.signal?.removeEventListener('abort', tab.close)
      close()
    },
  })
  if (options.signal?.aborted) tab.close()
  else {
    options.signal?.addEventListener('abort', tab.close)
    listen(true)
    join()
  }
  return tab
}
