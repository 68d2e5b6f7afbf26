/**
 * The hub: takes events into the log and fans them out to open streams.
 * @module
 */

import { verifyAck } from './ack-verify.js'
import { isJson, MAX_ACK_BODY, parseAck } from './acks.js'
import { Connection } from './connection.js'
import { isRtError, RtError } from './errors.js'
import { checkHubOptions } from './hub-options.js'
import { catchUpLog, type LogEntry, type LogGap, readLog } from './log.js'
import { memoryLog } from './memory-log.js'
import { countOption, durationOption } from './options.js'
import { createOriginPolicy } from './origins.js'
import { longPoll, type PollDeps } from './poll.js'
import { PresenceTracker } from './presence.js'
import { parseSubscribe, type SubscribeParams } from './request.js'
import { addTo, removeFrom } from './set-map.js'
import type { HubPlainResponse, HubResponse, StreamHandle, StreamSink } from './sink.js'
import type {
  AckListener,
  EventMap,
  HubOptions,
  HubStats,
  Identity,
  PublishInput,
  RtRequest,
  Source,
  SourceContext,
  SourceStatus,
  Timers,
} from './types.js'
import { checkPublish } from './validate.js'
import { ControlEvent, encodeControl, encodeEvent, encodeRetry, HEARTBEAT, type ResetReason } from './wire.js'
import { createWriter, defer } from './writer.js'

/** A realtime hub; create one with {@link createHub}. */
export interface Hub<Events extends EventMap = EventMap, Id extends Identity = Identity> {
  /**
   * Logs an event and delivers it to every subscriber allowed to see it.
   * Resolves to the event's log id. Throws {@link RtError} on invalid input.
   */
  publish(input: PublishInput<Events>): Promise<string>
  /** Starts a source feeding this hub; resolves to a function that detaches and stops it. */
  attach(source: Source<Events>): Promise<() => Promise<void>>
  /** Counters and gauges, for dashboards and health probes. */
  stats(): HubStats
  /**
   * The log position every event logged so far is at or before: the id of the newest
   * event, or the log's origin while it is empty (an id no event has, from which a client
   * receives every event). A client that resumes from it (`lastEventId`) receives exactly
   * the events logged after this call.
   *
   * Return it beside a snapshot of your data, read BEFORE the data: a change made while
   * the data is read is then also replayed after it, never lost, so the function that
   * applies events must tolerate seeing such a change twice (an upsert by id, not a push).
   *
   * @example
   * ```ts
   * app.get('/api/rooms/:id/messages', async (req, res) => {
   *   const cursor = hub.head() // first
   *   const data = await db.collection('messages').find({ room: req.params.id }).toArray()
   *   res.json({ data, cursor })
   * })
   * ```
   */
  head(): string
  /**
   * Answers one request. Adapters (`@rt/server/node`, `/fetch`, `/fastify`) call this;
   * call it yourself only to write an adapter of your own.
   */
  handle(req: RtRequest): Promise<HubResponse>
  /** Ends every stream (clients resume elsewhere), stops sources and closes the log. */
  close(): Promise<void>
  /**
   * Registers an acknowledgement listener; returns the function that removes it.
   *
   * @example
   * ```ts
   * hub.onAck(async (identity, ids) => { await receipts.markDelivered(identity.userId, ids) })
   * ```
   */
  onAck(listener: AckListener<Id>): () => void
  /** Who is connected, per topic. */
  readonly presence: {
    /** User ids with at least one open stream to `topic`. */
    online(topic: string): Promise<string[]>
  }
  /** The options this hub runs with, defaults filled in. */
  readonly options: Readonly<{ heartbeatMs: number; retryMs: number }>
}

const REPLAY_PAGE = 500
const STUCK_LOG = new RtError('internal', 'the log answered a page with more entries but no progress')
const SHUTDOWN = encodeControl(ControlEvent.closing, { reason: 'shutdown' })
/** Live entries held per replaying connection before it re-reads them from the log instead. */
const REPLAY_BUFFER_MAX = 1_000

const defaultTimers: Timers = {
  setInterval: (fn, ms) => {
    const handle = setInterval(fn, ms)
    // Do not keep a process alive just for heartbeats.
    ;(handle as { unref?: () => void }).unref?.()
    return handle
  },
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
}

const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-store, no-transform',
  'x-accel-buffering': 'no',
}

/** Reads state afresh: TypeScript keeps narrowings across `await`, the connection does not. */
const isClosed = (conn: Connection): boolean => conn.state === 'closed'

function plain(status: number, body: unknown, headers: Record<string, string> = {}): HubPlainResponse {
  return {
    kind: 'response',
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  }
}

function errorResponse(error: RtError): HubPlainResponse {
  const headers: Record<string, string> = {}
  if (error.retryAfter !== undefined) headers['retry-after'] = String(error.retryAfter)
  if (error.code === 'method_not_allowed') headers.allow = 'GET, POST, OPTIONS'
  return plain(error.status, { error: { code: error.code, message: error.message } }, headers)
}

/**
 * Creates a hub. With no options it runs on an in-memory log with anonymous access,
 * which is what tests and single-process demos want.
 *
 * @example
 * ```ts
 * type Events = { 'message.new': { text: string } }
 * const hub = createHub<Events>({
 *   authenticate: async (req) => verify(req.headers.get('authorization')),
 *   authorize: (identity, topic) => topic === `user:${identity.userId}`,
 * })
 * await hub.publish({ type: 'message.new', topic: 'user:42', data: { text: 'hi' } })
 * ```
 */
export function createHub<Events extends EventMap = EventMap, Id extends Identity = Identity>(
  options: HubOptions<Id> = {},
): Hub<Events, Id> {
  checkHubOptions(options)
  const log = options.log ?? memoryLog()
  const authenticate = options.authenticate ?? (() => ({}) as Id)
  const authorize = options.authorize ?? (() => true)
  const who = 'createHub'
  const heartbeatMs = durationOption(who, 'heartbeatMs', options.heartbeatMs, 15_000)
  const retryMs = durationOption(who, 'retryMs', options.retryMs, 1_000)
  const maxPerIdentity = countOption(who, 'maxConnectionsPerIdentity', options.maxConnectionsPerIdentity, 32)
  const maxConnections = countOption(who, 'maxConnections', options.maxConnections, 100_000)
  const maxBuffered = countOption(who, 'maxBufferedBytes', options.maxBufferedBytes, 1_048_576)
  const limits = {
    maxTopics: countOption(who, 'maxTopics', options.maxTopics, 100),
    maxQueryLength: countOption(who, 'maxQueryLength', options.maxQueryLength, 8_192),
  }
  const timers = options.timers ?? defaultTimers
  const coalesceMs = durationOption(who, 'coalesceMs', options.coalesceMs, 4, 0)
  const pollTimeoutMs = durationOption(who, 'pollTimeoutMs', options.pollTimeoutMs, 25_000)
  const origins = createOriginPolicy(options.origins)
  const ackListeners = new Set<AckListener<Id>>()
  const reportError = (error: unknown) => {
    try {
      options.onError?.(error)
    } catch {
      // A failing error hook must not take the hub down.
    }
  }

  const byTopic = new Map<string, Set<Connection>>()
  const byUser = new Map<string, Set<Connection>>()
  const connections = new Set<Connection>()
  let heartbeat: unknown = null
  let closed = false
  const counters = { published: 0, delivered: 0, dropped: 0 }
  const writer = createWriter({
    maxBufferedBytes: maxBuffered,
    coalesceMs,
    dropGraceMs: heartbeatMs,
    release,
    dropped: () => {
      counters.dropped++
    },
  })
  const { enqueue, writeQueued, room, drop } = writer
  const sources = new Map<Source<Events>, { state: SourceStatus['state']; error?: string }>()
  const retryBytes = encodeRetry(retryMs)
  /** Encoded bytes per entry, so a replayed entry is not encoded again. */
  const encoded = new WeakMap<LogEntry, Uint8Array>()
  /** The JSON made while validating the event being appended, reused by the fan-out. */
  let appending: { data: unknown; json: string } | null = null

  function bytesOf(entry: LogEntry): Uint8Array {
    let bytes = encoded.get(entry)
    if (bytes === undefined) {
      if (entry.type === ControlEvent.reset) {
        const { reason } = entry.data as { reason: string }
        bytes = encodeControl(ControlEvent.reset, { reason, topic: entry.topic }, entry.id)
      } else {
        const json = appending !== null && appending.data === entry.data ? appending.json : JSON.stringify(entry.data)
        bytes = encodeEvent(entry.id, entry.type, entry.topic, entry.ts, json)
      }
      encoded.set(entry, bytes)
    }
    return bytes
  }

  // --- fan-out -------------------------------------------------------------------------

  function offer(conn: Connection, entry: LogEntry, bytes: Uint8Array): void {
    if (conn.state === 'live') {
      counters.delivered++
      enqueue(conn, bytes)
    } else if (conn.state === 'replaying' || conn.state === 'polling') {
      if (conn.buffer.length < REPLAY_BUFFER_MAX) conn.buffer.push(entry)
      else conn.overflow = true
      conn.wake?.()
    }
  }

  function deliver(entry: LogEntry): void {
    let bytes: Uint8Array | undefined
    const to = entry.to
    if (to === undefined) {
      const subscribers = byTopic.get(entry.topic)
      if (subscribers === undefined) return
      for (const conn of subscribers) {
        if (!conn.wantsType(entry.type)) continue
        bytes ??= bytesOf(entry)
        offer(conn, entry, bytes)
      }
      return
    }
    for (const userId of to) {
      const own = byUser.get(userId)
      if (own === undefined) continue
      for (const conn of own) {
        if (!conn.topics.has(entry.topic) || !conn.wantsType(entry.type)) continue
        bytes ??= bytesOf(entry)
        offer(conn, entry, bytes)
      }
    }
  }

  /**
   * The log lost entries before telling us (a pub/sub bus cut off from Redis): every stream
   * that may have missed them is told to start over, never left with a silent hole.
   */
  function gap(at: LogGap): void {
    const bytes = encodeControl(ControlEvent.reset, { reason: at.reason }, at.id)
    for (const conn of connections) {
      if (conn.state === 'live') {
        enqueue(conn, bytes)
      } else if (conn.state === 'replaying') {
        // Re-reads from its cursor, which now lies before the gap, and is reset there.
        conn.overflow = true
      } else if (conn.state === 'polling') {
        // Answers with what it read before the gap; its next poll is reset.
        release(conn)
      }
    }
  }

  const unsubscribeLog = log.subscribe(deliver, gap)
  const presence = new PresenceTracker(enqueue, options.presence)

  // --- connections ---------------------------------------------------------------------

  function reserve(params: SubscribeParams, identity: Id): Connection {
    const conn = new Connection(new Set(params.topics), params.types, identity.userId)
    conn.identity = identity
    conn.presence = params.presence
    connections.add(conn)
    if (conn.userId !== undefined) addTo(byUser, conn.userId, conn)
    return conn
  }

  /** From here on, events of its topics reach the connection. */
  function indexTopics(conn: Connection): void {
    for (const topic of conn.topics) addTo(byTopic, topic, conn)
  }

  function release(conn: Connection): void {
    if (conn.state === 'closed') return
    conn.state = 'closed'
    conn.wake?.()
    if (conn.present) presence.remove(conn)
    conn.queue.length = 0
    conn.queued = 0
    conn.buffer = []
    connections.delete(conn)
    if (conn.userId !== undefined) removeFrom(byUser, conn.userId, conn)
    for (const topic of conn.topics) removeFrom(byTopic, topic, conn)
    if (connections.size === 0) stopHeartbeat()
  }

  function beat(): void {
    for (const conn of connections) if (conn.state === 'live' || conn.state === 'replaying') enqueue(conn, HEARTBEAT)
  }

  function startHeartbeat(): void {
    if (heartbeat === null) heartbeat = timers.setInterval(beat, heartbeatMs)
  }

  function stopHeartbeat(): void {
    if (heartbeat !== null) {
      timers.clearInterval(heartbeat)
      heartbeat = null
    }
  }

  function reset(conn: Connection, reason: ResetReason): void {
    // Everything told to listeners so far is at or before head, so the buffer is covered.
    conn.buffer = []
    conn.state = 'live'
    enqueue(conn, encodeControl(ControlEvent.reset, { reason }, log.head()))
  }

  async function replay(conn: Connection, afterId: string): Promise<void> {
    let cursor = afterId
    let resumed = false
    // Before collecting live entries: what the tail tells on its way to the position is not for us.
    await catchUpLog(log, afterId)
    if (isClosed(conn)) return
    for (;;) {
      conn.buffer = []
      conn.overflow = false
      const page = await readLog(log, cursor, REPLAY_PAGE, conn.filter)
      if (isClosed(conn)) return
      if (!page.ok) return reset(conn, page.reason)
      if (!resumed) {
        resumed = true
        resumedFrom(conn, afterId)
      }
      for (const entry of page.entries) {
        cursor = entry.id
        if (!conn.accepts(entry)) continue
        counters.delivered++
        enqueue(conn, bytesOf(entry))
        if (conn.queued + (conn.sink?.bufferedBytes ?? 0) > maxBuffered / 2) {
          await room(conn)
          if (isClosed(conn)) return
        }
      }
      // A log that answers `more` without moving on would spin here: fail the replay instead.
      if (page.more && page.entries.length === 0 && (page.cursor ?? cursor) === cursor) throw STUCK_LOG
      cursor = page.cursor ?? cursor
      if (page.more || conn.overflow) continue
      // Caught up. Entries told to us during the last read are either in that page or
      // newer than all of it; earlier ones were read by an earlier page.
      if (conn.buffer.length > 0) {
        const seen = new Set(page.entries.map((entry) => entry.id))
        for (const entry of conn.buffer) {
          if (seen.has(entry.id) || !conn.accepts(entry)) continue
          counters.delivered++
          enqueue(conn, bytesOf(entry))
        }
      }
      conn.buffer = []
      if (conn.state === 'replaying') conn.state = 'live'
      return
    }
  }

  function joinPresence(conn: Connection): void {
    conn.present = true
    presence.add(conn)
  }

  async function notifyAck(identity: Id, ids: readonly string[], cumulative: boolean, verified: boolean) {
    if (ids.length === 0) return
    const meta = { cumulative, verified }
    await Promise.all([...ackListeners].map(async (listener) => listener(identity, ids, meta)))
  }

  /** The log resumed from `id`, so it is a position in it: verified. */
  function resumedFrom(conn: Connection, id: string): void {
    if (ackListeners.size === 0) return
    notifyAck(conn.identity as Id, [id], true, true).catch(reportError)
  }

  const pollDeps: PollDeps = {
    log,
    index: indexTopics,
    release,
    resumedFrom,
    setTimeout: timers.setTimeout ?? ((fn, ms) => setTimeout(fn, ms)),
    clearTimeout: timers.clearTimeout ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>)),
    defer,
  }

  function open(conn: Connection, sink: StreamSink, lastEventId: string | null): StreamHandle {
    const handle: StreamHandle = { close: () => release(conn) }
    if (conn.state !== 'reserved') {
      // Released before the adapter opened it (the hub closed in between): end the response
      // rather than leave it open with nothing ever written.
      if (closed) sink.write(SHUTDOWN)
      sink.end()
      return handle
    }
    conn.sink = sink
    indexTopics(conn)
    startHeartbeat()
    if (lastEventId === null) {
      conn.state = 'live'
      enqueue(conn, retryBytes)
      enqueue(conn, encodeControl(ControlEvent.connected, { heartbeatMs }, log.head()))
      joinPresence(conn)
      return handle
    }
    conn.state = 'replaying'
    enqueue(conn, retryBytes)
    enqueue(conn, encodeControl(ControlEvent.connected, { heartbeatMs }))
    joinPresence(conn)
    replay(conn, lastEventId).catch((error: unknown) => {
      reportError(error)
      drop(conn)
    })
    return handle
  }

  // --- requests ------------------------------------------------------------------------

  async function subscribe(req: RtRequest): Promise<HubResponse> {
    if (closed) throw new RtError('hub_closed', 'the hub is shutting down', { status: 503, retryAfter: 1 })
    const refused = origins.check(req)
    if (refused !== null) throw refused
    if (req.method === 'POST') return acknowledge(req)
    if (req.method !== 'GET') {
      throw new RtError('method_not_allowed', `method ${req.method} is not allowed`, { status: 405 })
    }
    const params = parseSubscribe(req.url, req.headers, limits)
    if (params instanceof RtError) throw params
    const identity = await authenticate(req)
    if (identity === null || identity === undefined) {
      throw new RtError('unauthorized', 'authentication required', { status: 401 })
    }
    const verdicts = await Promise.all(params.topics.map((topic) => authorize(identity, topic)))
    const denied = params.topics.find((_, i) => verdicts[i] !== true)
    if (denied !== undefined) {
      throw new RtError('forbidden', `not allowed to subscribe to topic "${denied}"`, { status: 403 })
    }
    // Checked after the awaits so the check and the reservation happen in one step.
    if (closed) throw new RtError('hub_closed', 'the hub is shutting down', { status: 503, retryAfter: 1 })
    const userId = identity.userId
    if (connections.size >= maxConnections) {
      throw new RtError('too_many_connections', 'the server has too many open streams', {
        status: 503,
        retryAfter: 5,
      })
    }
    if (userId !== undefined && (byUser.get(userId)?.size ?? 0) >= maxPerIdentity) {
      throw new RtError('too_many_connections', `at most ${maxPerIdentity} open streams per user`, {
        status: 429,
        retryAfter: 5,
      })
    }
    const conn = reserve(params, identity)
    if (params.transport === 'poll') {
      const wait = Math.min(params.timeoutMs ?? pollTimeoutMs, pollTimeoutMs)
      const answer = await longPoll(pollDeps, conn, params.lastEventId, wait, req.signal)
      counters.delivered += answer.events.length
      return plain(200, { ...answer, heartbeatMs, retryMs })
    }
    return {
      kind: 'stream',
      status: 200,
      headers: SSE_HEADERS,
      open: (sink) => open(conn, sink, params.lastEventId),
      cancel: () => release(conn),
    }
  }

  async function acknowledge(req: RtRequest): Promise<HubResponse> {
    if (req.readBody === undefined) {
      throw new RtError('method_not_allowed', 'this adapter does not accept acknowledgements', { status: 405 })
    }
    // Only JSON: a cross-site form or text/plain POST needs no preflight.
    if (!isJson(req.headers.get('content-type'))) {
      throw new RtError('unsupported_media_type', 'acks must be sent as application/json', { status: 415 })
    }
    const identity = await authenticate(req)
    if (identity === null || identity === undefined) {
      throw new RtError('unauthorized', 'authentication required', { status: 401 })
    }
    const ids = parseAck(await req.readBody(MAX_ACK_BODY))
    if (ids instanceof RtError) throw ids
    if (ackListeners.size > 0) {
      const { verified, unverified } = await verifyAck(log, identity, ids, authorize)
      await notifyAck(identity, verified, false, true)
      await notifyAck(identity, unverified, false, false)
    }
    // The same answer whatever the ids were: an ack tells nothing about what the log holds.
    return { kind: 'response', status: 204, headers: { 'cache-control': 'no-store' }, body: '' }
  }

  async function answer(req: RtRequest): Promise<HubResponse> {
    if (req.method === 'OPTIONS') return origins.preflight(req)
    try {
      return await subscribe(req)
    } catch (error) {
      if (isRtError(error)) return errorResponse(error)
      reportError(error)
      return errorResponse(new RtError('internal', 'internal error', { status: 500 }))
    }
  }

  /** Every answer to an allowed other origin carries CORS headers, errors included. */
  async function handle(req: RtRequest): Promise<HubResponse> {
    const response = await answer(req)
    const cors = origins.headers(req)
    if (req.method === 'OPTIONS' || !('access-control-allow-origin' in cors)) return response
    return { ...response, headers: { ...response.headers, ...cors } }
  }

  // --- publishing and sources ----------------------------------------------------------

  async function publish(input: PublishInput<Events>): Promise<string> {
    if (closed) throw new RtError('hub_closed', 'the hub is closed')
    const checked = checkPublish(input)
    appending = { data: checked.data, json: checked.json }
    try {
      const entry = await log.append({
        type: checked.type,
        topic: checked.topic,
        to: checked.to,
        data: checked.data,
        key: checked.key,
      })
      counters.published++
      return entry.id
    } finally {
      appending = null
    }
  }

  async function attach(source: Source<Events>): Promise<() => Promise<void>> {
    if (closed) throw new RtError('hub_closed', 'the hub is closed')
    const state: { state: SourceStatus['state']; error?: string } = { state: 'starting' }
    sources.set(source, state)
    const context: SourceContext<Events> = {
      publish,
      async reset(topic, reason, key) {
        if (closed) throw new RtError('hub_closed', 'the hub is closed')
        checkPublish({ type: 'reset', topic, data: null, key })
        const entry = await log.append({ type: ControlEvent.reset, topic, data: { reason }, key })
        return entry.id
      },
      reportError(error) {
        state.state = 'failed'
        state.error = error instanceof Error ? error.message : String(error)
        reportError(error)
      },
    }
    try {
      await source.start(context)
      if (state.state === 'starting') state.state = 'running'
    } catch (error) {
      context.reportError(error)
    }
    return async () => {
      if (!sources.delete(source)) return
      await source.stop()
    }
  }

  function stats(): HubStats {
    // No prototype: a topic or user named `__proto__` is a key like any other.
    const topics: Record<string, number> = Object.create(null)
    for (const [topic, set] of byTopic) topics[topic] = set.size
    const users: Record<string, number> = Object.create(null)
    for (const [user, set] of byUser) users[user] = set.size
    return {
      closed,
      connections: connections.size,
      topics,
      users,
      ...counters,
      log: log.status?.(),
      sources: [...sources].map(([source, own]) => ({ name: source.name, ...own, ...source.status?.() })),
    }
  }

  async function close(): Promise<void> {
    if (closed) return
    closed = true
    const stopping = [...sources.keys()].map(async (source) => {
      try {
        await source.stop()
      } catch (error) {
        reportError(error)
      }
    })
    sources.clear()
    await Promise.all(stopping)
    for (const conn of [...connections]) {
      const sink = conn.sink
      if (sink !== null && conn.state !== 'closed') {
        enqueue(conn, SHUTDOWN)
        writeQueued(conn)
      }
      release(conn)
      sink?.end()
    }
    writer.close()
    stopHeartbeat()
    unsubscribeLog()
    try {
      await presence.close()
    } catch (error) {
      reportError(error)
    }
    await log.close?.()
  }

  return {
    publish,
    attach,
    stats,
    head: () => log.head(),
    handle,
    close,
    onAck(listener) {
      ackListeners.add(listener)
      return () => {
        ackListeners.delete(listener)
      }
    },
    presence: {
      online: async (topic) => presence.online(topic),
    },
    options: { heartbeatMs, retryMs },
  }
}
