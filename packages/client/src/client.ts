/**
 * The transport loop: requests, reconnects, backoff, watchdog and long-poll fallback,
 * over the protocol layer in `protocol.ts` and `cursor.ts`.
 * @module
 */

import type { PollAnswer } from '@rt/protocol'
import { createAcks } from './acks.js'
import { backoff, clamp, MAX_TIMER_MS, retryAfterMs } from './backoff.js'
import { createCursor } from './cursor.js'
import { RtError } from './errors.js'
import { readSettings } from './options.js'
import { type Action, fromPoll, interpret, type Message, PRESENCE, RESET } from './protocol.js'
import { createSseReader } from './sse-reader.js'
import { openStore, storeKey } from './storage.js'
import type { Client, ClientOptions, ClientState, ClientUpdate, EventMap, Timers, Transport } from './types.js'

/**
 * How `@rt/client/share` drives clients; not part of the public API. `tap` sees each
 * message the client acted on (the shared connection relays it); `drive` replaces the
 * transport loop with messages fed in and states set from outside (a tab that follows).
 */
export interface Hooks {
  tap?(message: Message): void
  drive?(receive: (message: Message) => void, setState: (state: ClientState) => void): void
}

/** How one attempt (an SSE stream, or a run of long-poll requests) ended. */
interface Outcome {
  /** It got as far as `rt.connected` (or a long-poll answer). */
  readonly opened: boolean
  /** No `rt.connected` in time: a buffering proxy, or a server that hangs. */
  readonly stalled?: boolean
  /** Ended on purpose (`reconnect`, `update`, an SSE probe): go again at once. */
  readonly restart?: boolean
  /** The HTTP status of a refused request. */
  readonly status?: number
  readonly retryAfter?: number
  readonly message?: string
}

type AnyListener = (a: unknown, b?: unknown) => void

/** The global timers, looked up per call (so fake timers installed later are used). */
const defaultTimers = globalThis as Timers

/** The URLs of `url` (one, or a hub's nodes), resolved against the page. */
export const resolveUrls = (url: string | URL | readonly (string | URL)[]): URL[] =>
  (Array.isArray(url) ? url : [url]).map((each: string | URL) => new URL(each, globalThis.location?.href))

/** State listeners are kept beside the events' under a wire-like name no event can use. */
const STATE = 'rt.state'
/** A long-poll answer this full is a page of a catch-up: the next poll goes at once. */
const CATCH_UP = 100

/** `reset` and `presence` are stored under their wire names, which no application event can use. */
const keyOf = (type: string) => (type === 'reset' || type === 'presence' ? `rt.${type}` : type)

/**
 * Creates a client and starts it: it connects at once and keeps the stream alive until
 * `close()`, resuming after the last id it saw so that no event is lost or repeated.
 *
 * @example
 * ```ts
 * type Events = { 'message.new': { text: string } }
 * const rt = createClient<Events>({
 *   url: '/events',
 *   topics: ['group:42'],
 *   headers: async () => ({ authorization: `Bearer ${await token()}` }),
 *   persist: 'session',
 * })
 * rt.on('message.new', (data, meta) => show(data.text, meta.topic))
 * rt.on('reset', () => refetchEverything())
 * ```
 */
export function createClient<Events extends EventMap = EventMap>(
  options: NoInfer<ClientOptions<Events>>,
): Client<Events>
/** @internal Driven by `@rt/client/share`. */
export function createClient<Events extends EventMap = EventMap>(
  options: NoInfer<ClientOptions<Events>>,
  hooks: Hooks,
): Client<Events>
export function createClient<Events extends EventMap = EventMap>(
  options: ClientOptions<Events>,
  hooks?: Hooks,
): Client<Events> {
  const { minRetryMs, maxRetryMs, connectTimeoutMs, pollTimeoutMs, fallbackAfter, ...settings } = readSettings(options)
  const timers = options.timers ?? defaultTimers
  const random = options.random ?? Math.random
  // Looked up per call, so a fetch installed after the client was created is used.
  const send = options.fetch ?? ((input: URL, init?: RequestInit) => fetch(input, init))
  const preferred = options.transport ?? 'auto'
  // Several URLs: the hub's nodes. Each attempt after one that ended goes to the next.
  const bases = resolveUrls(options.url)
  let at = 0
  let base = bases[0] as URL
  let topics = options.topics
  let types: readonly string[] | undefined = options.types
  const store = openStore(options.persist)
  let key = storeKey(bases[0] as URL, topics)
  const cursor = createCursor(options.lastEventId ?? store?.get(key))
  const listeners = new Map<string, Set<AnyListener>>()
  let state: ClientState = 'connecting'
  let mode: Transport = preferred === 'poll' ? 'poll' : 'sse'
  /** The backoff's base; a server's `retry:` is kept within the floor and ceiling. */
  let retryMs = 0
  const setRetry = (ms: number) => {
    retryMs = clamp(ms, minRetryMs, maxRetryMs)
  }
  setRetry(settings.retryMs)
  /** Set by `rt.connected` before the watchdog uses it. */
  let heartbeatMs = 15_000
  let everOpen = false
  let sseFailures = 0
  /** The request in flight, aborted by `reconnect`, `update`, a probe and `close`. */
  let current: AbortController | undefined
  /** Ends the backoff wait early. */
  let wake: (() => void) | undefined
  let probeTimer: unknown

  /** Reads state afresh: TypeScript keeps narrowings across `await`, the client does not. */
  const isClosed = () => state === 'closed'

  function report(error: unknown, rethrow = false): void {
    if (options.onError) options.onError(error)
    else if (rethrow) {
      // Without a handler a listener's error surfaces as an event listener's would.
      queueMicrotask(() => {
        throw (error as RtError).cause
      })
    }
  }

  function setState(next: ClientState): void {
    if (state === next || state === 'closed') return
    state = next
    emit(STATE, next)
  }

  function call(listener: AnyListener, a: unknown, b?: unknown): void {
    try {
      listener(a, b)
    } catch (error) {
      report(new RtError('listener', 'a listener threw', { cause: error }), true)
    }
  }

  function emit(type: string, a: unknown, b?: unknown): void {
    const set = listeners.get(type)
    if (set !== undefined) for (const listener of set) call(listener, a, b)
  }

  function save(): void {
    if (store !== undefined && cursor.id !== undefined) store.set(key, cursor.id)
  }

  /** Hands one message to the protocol layer and its listeners. */
  function receive(message: Message): Action | undefined {
    const action = interpret(message, cursor)
    if (action?.kind === 'event') {
      emit(action.meta.type, action.data, action.meta)
      acks?.add(action.meta.id)
    } else if (action?.kind === 'reset') emit(RESET, action.info)
    else if (action?.kind === 'presence') emit(PRESENCE, action.info)
    save()
    if (action) hooks?.tap?.(message)
    return action
  }

  function opened(): void {
    everOpen = true
    setState('open')
  }

  async function headers(): Promise<Record<string, string>> {
    try {
      return { ...(typeof options.headers === 'function' ? await options.headers() : options.headers) }
    } catch (error) {
      report(new RtError('headers', 'the headers function failed', { cause: error }))
      throw error
    }
  }

  /** The URL and request options of a stream or long-poll request. */
  async function prepare(accept: string, params: Record<string, string>, signal: AbortSignal) {
    const url = new URL(base)
    const query = url.searchParams
    query.set('topics', topics.join(','))
    if (types?.length) query.set('types', types.join(','))
    for (const name in params) query.set(name, params[name] as string)
    const sent: Record<string, string> = { ...(await headers()), accept }
    if (cursor.id !== undefined) sent['last-event-id'] = cursor.id
    // A redirect would carry the app's headers and position to wherever it points.
    return [url, { headers: sent, credentials: options.credentials, signal, redirect: 'manual' }] as const
  }

  /** How an attempt ends when its answer is not a 200 of `type`; `undefined` when it is. */
  async function refused(res: Response, wasOpen: boolean, type: string): Promise<Outcome | undefined> {
    const { status } = res
    if (status === 200) {
      if (res.headers.get('content-type')?.startsWith(type)) return
      report(new RtError('protocol', `not ${type}`))
      return { opened: wasOpen }
    }
    // A redirect: Node's fetch shows the 3xx, a browser an opaque response with status 0.
    if (!res.ok && status < 400) {
      report(new RtError('redirect', 'not followed', { status }))
      return { opened: wasOpen }
    }
    let message = `HTTP ${status}`
    try {
      message = ((await res.json()) as { error: { message: string } }).error.message
    } catch {}
    return { opened: wasOpen, status, retryAfter: retryAfterMs(res.headers.get('retry-after'), maxRetryMs), message }
  }

  /**
   * One attempt in the current mode: an SSE stream from request to end, or long-poll
   * requests back to back until one fails or SSE is due again.
   */
  async function attempt(): Promise<Outcome> {
    let open = false
    for (;;) {
      const ac = new AbortController()
      current = ac
      const poll = mode === 'poll'
      const type = poll ? 'application/json' : 'text/event-stream'
      let stalled = false
      let timer: unknown
      const end = (): Outcome => ({ opened: open, stalled: stalled && !open, restart: ac.signal.aborted && !stalled })
      // The floor under the next poll, counted from this one's start: an answer that comes
      // sooner waits for it; one the server held longer finds it passed. Ends on abort too.
      const paced =
        poll &&
        settings.minPollMs > 0 &&
        new Promise<void>((resolve) => {
          const floor = timers.setTimeout(
            resolve,
            backoff(0, settings.minPollMs, settings.minPollMs, MAX_TIMER_MS, random),
          )
          ac.signal.addEventListener('abort', () => resolve(timers.clearTimeout(floor)))
        })
      // The watchdog: silence for `ms` aborts the request.
      const arm = (ms: number) => {
        timers.clearTimeout(timer)
        timer = timers.setTimeout(() => {
          stalled = true
          ac.abort()
        }, ms)
      }
      try {
        const params: Record<string, string> = poll
          ? { transport: 'poll', timeout: String(pollTimeoutMs) }
          : options.presence
            ? { presence: '1' }
            : {}
        const [url, init] = await prepare(type, params, ac.signal)
        // Until `rt.connected` a stream's deadline is not moved by bytes: a proxy that
        // trickles headers but holds the body is buffering.
        arm(poll ? Math.min(pollTimeoutMs + connectTimeoutMs, MAX_TIMER_MS) : connectTimeoutMs)
        const res = await send(url, init)
        const refusal = await refused(res, open, type)
        if (refusal) return refusal
        if (poll) {
          const answer = (await res.json()) as PollAnswer
          if (answer.retryMs) setRetry(answer.retryMs)
          open = true
          opened()
          for (const message of fromPoll(answer)) if (!isClosed()) receive(message)
          if (isClosed()) return { opened: open, restart: true }
          cursor.move(answer.lastEventId)
          save()
          timers.clearTimeout(timer)
          if (answer.events.length < CATCH_UP) await paced
          // SSE is due again, or `reconnect`, `update` or `close` cut the wait: a new attempt.
          if (mode !== 'poll' || ac.signal.aborted) return { opened: open, restart: true }
          continue
        }
        const feed = createSseReader(
          settings.maxMessageSize,
          (message) => {
            if (isClosed()) return
            const action = receive(message)
            if (action?.kind === 'connected') {
              // The watchdog waits 2.5 heartbeats: a delay a timer must hold.
              heartbeatMs = clamp(action.heartbeatMs, 100, MAX_TIMER_MS / 2.5)
              open = true
              opened()
            }
          },
          setRetry,
          report,
        )
        const reader = (res.body as ReadableStream<Uint8Array>).getReader()
        for (;;) {
          const { done, value } = await reader.read()
          if (done || !feed(value)) break
          if (open) arm(heartbeatMs * 2.5)
        }
        return end()
      } catch {
        // A network error, or an abort: the flags say which.
        return end()
      } finally {
        timers.clearTimeout(timer)
        // Releases the connection, or an answer that was not read (a redirect, a wrong type).
        ac.abort()
      }
    }
  }

  function toPoll(): void {
    mode = 'poll'
    sseFailures = 0
    probeTimer = timers.setTimeout(
      () => {
        mode = 'sse'
        // One more failure sends it back to long-poll.
        sseFailures = fallbackAfter - 1
        current?.abort()
        // SSE is tried again as a reconnect would be: never sooner than the backoff's floor,
        // so a short `sseRetryMs` with a failing stream cannot switch back and forth at once.
      },
      Math.max(settings.sseRetryMs, backoff(0, retryMs, minRetryMs, maxRetryMs, random)),
    )
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms < Infinity ? timers.setTimeout(() => wake?.(), ms) : undefined
      wake = () => {
        timers.clearTimeout(timer)
        wake = undefined
        resolve()
      }
    })
  }

  async function run(): Promise<void> {
    let failures = 0
    let denied = 0
    while (!isClosed()) {
      const outcome = await attempt()
      current = undefined
      if (isClosed()) return
      if (outcome.restart) continue
      at = (at + 1) % bases.length
      base = bases[at] as URL
      const { status } = outcome
      if (outcome.opened) failures = 0
      let delay = backoff(failures++, retryMs, minRetryMs, maxRetryMs, random)
      if (status === 401) {
        setState('unauthorized')
        denied++
        let retry = true
        try {
          retry = (await options.onUnauthorized?.(denied)) ?? true
        } catch (error) {
          report(error)
        }
        if (isClosed()) return
        if (!retry) {
          await sleep(Infinity)
          denied = 0
          continue
        }
        // Fresh credentials are tried at once; the same ones again only after a backoff.
        delay = denied === 1 ? 0 : backoff(denied - 2, retryMs, minRetryMs, maxRetryMs, random)
      } else {
        denied = 0
        if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
          report(new RtError('rejected', outcome.message ?? '', { status }))
          return close()
        }
        if (mode === 'sse' && preferred === 'auto' && status !== 429 && status !== 503) {
          if (outcome.opened) sseFailures = 0
          else if (outcome.stalled || ++sseFailures >= fallbackAfter) {
            toPoll()
            delay = 0
          }
        }
        setState(everOpen ? 'reconnecting' : 'connecting')
      }
      // A Retry-After (cut to the ceiling) is honoured; the jittered backoff is the floor.
      await sleep(Math.max(delay, outcome.retryAfter ?? 0))
    }
  }

  const acks = options.ack
    ? createAcks(
        async (ids) => {
          try {
            const res = await send(base, {
              method: 'POST',
              headers: { ...(await headers()), 'content-type': 'application/json' },
              credentials: options.credentials,
              body: JSON.stringify({ ack: ids }),
              redirect: 'manual',
              // Lets a batch flushed on page hide outlive the page.
              keepalive: true,
            })
            await res.body?.cancel()
            if (res.ok) return true
            if (res.status === 408 || res.status === 429 || res.status >= 500) return false
            report(new RtError('ack', `refused: HTTP ${res.status}`, { status: res.status }))
            return true
          } catch {
            return false
          }
        },
        timers,
        settings.ackDelayMs,
        maxRetryMs,
      )
    : undefined
  const flushAcks = () => acks?.flush()

  function reconnect(): void {
    current?.abort()
    wake?.()
  }

  function close(): void {
    if (isClosed()) return
    setState('closed')
    reconnect()
    timers.clearTimeout(probeTimer)
    acks?.flush(true)
    globalThis.removeEventListener?.('pagehide', flushAcks)
    options.signal?.removeEventListener('abort', close)
    listeners.clear()
  }

  function on(type: string, listener: AnyListener): () => void {
    const name = keyOf(type)
    let set = listeners.get(name)
    if (set === undefined) {
      set = new Set()
      listeners.set(name, set)
    }
    set.add(listener)
    return () => off(type, listener)
  }

  function off(type: string, listener: AnyListener): void {
    const name = keyOf(type)
    const set = listeners.get(name)
    set?.delete(listener)
    if (set?.size === 0) listeners.delete(name)
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
    onState: (listener: (state: ClientState) => void) => on(STATE, listener as AnyListener),
    update(changes: ClientUpdate<Events>) {
      if (changes.topics) topics = changes.topics
      if ('types' in changes) types = changes.types
      key = storeKey(bases[0] as URL, topics)
      reconnect()
    },
    reconnect,
    close,
    get state() {
      return state
    },
    get lastEventId() {
      return cursor.id
    },
    get transport() {
      return mode
    },
  }

  if (options.signal?.aborted) close()
  else {
    options.signal?.addEventListener('abort', close)
    if (acks) globalThis.addEventListener?.('pagehide', flushAcks)
    if (hooks?.drive) hooks.drive(receive, setState)
    else run().catch((error: unknown) => report(error))
  }
  return client as unknown as Client<Events>
}
