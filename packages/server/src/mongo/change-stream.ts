/**
 * `mongoChangeStream`: a MongoDB change stream as a hub source, exactly once into the log.
 * @module
 */
import type {
  ChangeStream,
  ChangeStreamDocument,
  ChangeStreamOptions,
  Collection,
  Db,
  Document,
  MongoClient,
  Timestamp,
} from 'mongodb'
import {
  durationOption,
  type EventMap,
  isRtError,
  type PublishInput,
  RtError,
  type SourceContext,
  type SourceStatus,
} from '../index.js'
import { type BackoffOptions, backoffDelay } from './backoff.js'
import {
  errorText,
  isForeignToken,
  isHistoryLost,
  isMissingImage,
  isModifiedId,
  isStandalone,
  isTooLarge,
  replicaSetRequired,
} from './errors.js'
import { createLeader, type Leader, type LeaseOptions } from './lease.js'
import { checkExclude, ownCollectionsStage } from './own-collections.js'
import { createAssembler } from './split-events.js'
import { type MongoTimers, realTimers, sleep } from './timers.js'
import { type Checkpoint, memoryTokenStore, type ResumeToken, type TokenStore } from './token-store.js'

/** What `map` may return for one change: nothing, one event, or several. */
export type MapResult<Events extends EventMap = EventMap> =
  | PublishInput<Events>
  | readonly PublishInput<Events>[]
  | null
  | undefined

/** Why a source sent `rt.reset` to its topics. */
export type SourceResetReason = 'history_lost' | 'invalidated'

/** Options of {@link mongoChangeStream}: give exactly one of `collection`, `db`, `client`. */
export interface MongoChangeStreamOptions<Events extends EventMap = EventMap, TSchema extends Document = Document> {
  /** Watch one collection. */
  collection?: Collection<TSchema>
  /** Watch every collection of a database. */
  db?: Db
  /** Watch the whole deployment. */
  client?: MongoClient
  /**
   * Aggregation stages after `$changeStream`, typically a `$match` on `operationType` or
   * fields. Keep `_id` (the resume token) as it is. End it with
   * `{ $changeStreamSplitLargeEvent: {} }` (MongoDB 7.0+) when a change can be over 16 MB:
   * `map` still gets one change, put back together from its fragments.
   */
  pipeline?: Document[]
  /**
   * Collections a database- or cluster-wide stream leaves out, as `'collection'` (in any
   * database) or `'db.collection'`. The token store's collection and rt's default names
   * (`rt_tokens`, `rt_log`, `rt_log.meta`) are always left out, so the stream never reads
   * rt's own writes; name a `mongoLog` with another `collection` here (and its `.meta`).
   */
  exclude?: readonly string[]
  /**
   * Whether update events carry the whole document: `'updateLookup'` reads it at delivery
   * time; `'whenAvailable'` / `'required'` use post-images (collection option
   * `changeStreamPreAndPostImages`).
   * @default 'default' (only the delta in `updateDescription`)
   */
  fullDocument?: 'default' | 'updateLookup' | 'whenAvailable' | 'required'
  /** Pre-images of updated and deleted documents (needs `changeStreamPreAndPostImages`). @default 'off' */
  fullDocumentBeforeChange?: 'off' | 'whenAvailable' | 'required'
  /**
   * Turns a change into events. May be async (enrich with profiles, fan out to followers).
   * Each event's `key` is replaced by one derived from the change's resume token, so a
   * change read twice (after a crash) is logged once.
   */
  map: (change: ChangeStreamDocument<TSchema>) => MapResult<Events> | Promise<MapResult<Events>>
  /** Where the position is persisted. @default memoryTokenStore() (lost on restart) */
  tokens?: TokenStore
  /**
   * The source's name: the key of its checkpoint and lease, the prefix of its event keys,
   * and its name in `hub.stats().sources`. Give each source of a deployment its own.
   * @default 'mongo:<db>.<collection>', 'mongo:<db>' or 'mongo:cluster'
   */
  name?: string
  /**
   * What to do when the stream cannot resume because the oplog no longer holds its
   * position (code 286), or when the stream is invalidated (the collection was dropped or
   * renamed). `'reset'` sends `rt.reset` to the source's topics and goes on: from now after
   * lost history, from just after the invalidation otherwise. `'fail'` stops the source
   * with state `failed` (health turns 503) until `recover()` is called.
   * @default 'reset'
   */
  onHistoryLost?: 'reset' | 'fail'
  /**
   * The topics that get `rt.reset` when history is lost or the stream is invalidated.
   * @default every topic this source published to (the last `maxResetTopics`), kept
   * with the checkpoint so a restarted process still knows them
   */
  resetTopics?: readonly string[] | ((reason: SourceResetReason) => Iterable<string> | Promise<Iterable<string>>)
  /** How many recently used topics are remembered for resets. @default 1_000 */
  maxResetTopics?: number
  /**
   * Run on one node only: with a log shared by several nodes (`mongoLog`, a Redis log)
   * only the holder of this lease (kept in `tokens`) watches; another node takes over
   * when it dies. Leave off when every node has its own log.
   * @default false
   */
  lease?: boolean | LeaseOptions
  /** Where to start when there is no stored token. @default now */
  startAtOperationTime?: Timestamp
  /**
   * Least interval between checkpoints while nothing is logged; a checkpoint is always
   * written after logged events, before the next batch is read.
   * @default 1_000
   */
  checkpointMs?: number
  /** How long the server holds an empty `getMore` open. @default 1_000 */
  maxAwaitTimeMS?: number
  /** Changes per batch. @default the server's */
  batchSize?: number
  /** Restart delays after the stream died despite the driver's own resume. */
  backoff?: BackoffOptions
  /** Called with errors the source recovers from (stream restarts). Failures also reach the hub's `onError`. */
  onError?: (error: unknown) => void
  /** @internal Timers for tests. */
  timers?: MongoTimers
}

/** `hub.stats().sources` entry of a change stream source. */
export interface MongoSourceStatus extends SourceStatus {
  /** When a checkpoint was last written (ms since the epoch). */
  readonly lastTokenAt?: number | undefined
  /** Cluster time of the last change read (ms since the epoch). */
  readonly lastChangeAt?: number | undefined
  /** Times the stream was reopened after it died. */
  readonly restarts: number
  /** With a lease: whether this node holds it. */
  readonly leader?: boolean | undefined
}

/** A change stream source; attach it with `hub.attach(source)`. */
export interface MongoChangeStreamSource<Events extends EventMap = EventMap> {
  readonly name: string
  /**
   * Starts watching. The hub calls it with its context on `attach`; call it without one
   * to restart after `stop()`. Rejects with code `replica_set_required` on a standalone server.
   */
  start(context?: SourceContext<Events>): Promise<void>
  /** Stops watching (and gives up the lease); the position stays in the token store. */
  stop(): Promise<void>
  /**
   * After a `'fail'` on lost history or invalidation: sends `rt.reset` to the reset
   * topics and restarts from now.
   */
  recover(): Promise<void>
  status(): MongoSourceStatus
}

const MAX_KEY = 512
const Stop = Symbol('stop')

type Target = Collection<Document> | Db | MongoClient

function targetOf(options: MongoChangeStreamOptions<EventMap, Document>): Target {
  const given = [options.collection, options.db, options.client].filter((t) => t !== undefined)
  if (given.length !== 1) {
    throw new RtError('invalid_option', 'mongoChangeStream: give exactly one of `collection`, `db` or `client`')
  }
  return given[0] as Target
}

function defaultName(options: MongoChangeStreamOptions<EventMap, Document>): string {
  if (options.collection) return `mongo:${options.collection.dbName}.${options.collection.collectionName}`
  if (options.db) return `mongo:${options.db.databaseName}`
  return 'mongo:cluster'
}

/** Runs `hello` where the target allows it: no `setName` (and not mongos) means standalone. */
async function checkReplicaSet(options: MongoChangeStreamOptions<EventMap, Document>): Promise<void> {
  // A Collection does not expose its client publicly; without one the first aggregate
  // tells (error 40573).
  const client =
    options.client ?? options.db?.client ?? (options.collection as unknown as { client?: MongoClient }).client
  if (client === undefined) return
  const hello = await client.db('admin').command({ hello: 1 })
  if (hello.setName === undefined && hello.msg !== 'isdbgrid') throw replicaSetRequired()
}

/** Cluster wall time of a change, in ms: `wallTime` (6.0+) or the seconds of `clusterTime`. */
function changeTime(change: Document): number | undefined {
  if (change.wallTime instanceof Date) return change.wallTime.getTime()
  const clusterTime = change.clusterTime as { getHighBitsUnsigned?: () => number } | undefined
  const seconds = clusterTime?.getHighBitsUnsigned?.()
  return seconds === undefined ? undefined : seconds * 1000
}

function isHex(text: string): boolean {
  return /^[0-9a-fA-F]+$/.test(text)
}

function tokenText(token: ResumeToken): string {
  const data = token._data
  return typeof data === 'string' ? data : JSON.stringify(token)
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')
}

/** The log key of the `index`-th event of a change: stable across re-reads of that change. */
async function eventKey(name: string, token: ResumeToken, index: number): Promise<string> {
  const key = `${name}:${tokenText(token)}:${index}`
  return key.length <= MAX_KEY ? key : `${name.slice(0, 200)}:sha256:${await sha256(key)}`
}

const closings = new WeakMap<ChangeStream<Document, Document>, Promise<void>>()

/**
 * Closes a stream once, however many callers ask. The driver's close() is not idempotent
 * while it runs: a second call sees the cursor marked killed and ends the session under the
 * first call's `killCursors`, which then fails silently and leaves the cursor open on the
 * server until its idle timeout.
 */
function closeOnce(stream: ChangeStream<Document, Document>): Promise<void> {
  let closing = closings.get(stream)
  if (closing === undefined) {
    closing = stream.close().catch(() => {})
    closings.set(stream, closing)
  }
  return closing
}

/**
 * A MongoDB change stream as a hub source. Each change goes through `map`; the events it
 * returns are logged under keys derived from the change's resume token, then the token is
 * persisted, so a crash anywhere re-reads changes (the log drops the duplicates) and never
 * skips one. Resumes with `startAfter`; keeps checkpointing while a filtered stream is
 * quiet; lets the driver resume transient errors and restarts with backoff when the
 * stream dies anyway.
 *
 * Needs a replica set (a single node is enough) and `mongodb` >= 7.
 *
 * @example
 * ```ts
 * const db = client.db('app')
 * await hub.attach(mongoChangeStream<Events>({
 *   collection: db.collection('messages'),
 *   pipeline: [{ $match: { operationType: 'insert' } }],
 *   tokens: mongoTokenStore(db),
 *   map: (change) => change.operationType === 'insert'
 *     ? { type: 'message.new', topic: `group:${change.fullDocument.groupId}`, data: { text: change.fullDocument.text } }
 *     : null,
 * }))
 * ```
 */
export function mongoChangeStream<Events extends EventMap = EventMap, TSchema extends Document = Document>(
  options: MongoChangeStreamOptions<Events, TSchema>,
): MongoChangeStreamSource<Events> {
  const untyped = options as unknown as MongoChangeStreamOptions<EventMap, Document>
  const target = targetOf(untyped)
  const name = options.name ?? defaultName(untyped)
  const tokens = options.tokens ?? memoryTokenStore()
  const timers = options.timers ?? realTimers
  const policy = options.onHistoryLost ?? 'reset'
  const who = `mongoChangeStream ${name}`
  const checkpointMs = durationOption(who, 'checkpointMs', options.checkpointMs, 1_000, 0)
  const maxAwaitMs = durationOption(who, 'maxAwaitTimeMS', options.maxAwaitTimeMS, 1_000)
  durationOption(who, 'backoff.initialMs', options.backoff?.initialMs, 500)
  durationOption(who, 'backoff.maxMs', options.backoff?.maxMs, 30_000)
  const maxTopics = options.maxResetTopics ?? 1_000
  const map = options.map as (change: Document) => MapResult<Events> | Promise<MapResult<Events>>
  const leaseOptions = options.lease === true ? {} : options.lease === false ? undefined : options.lease
  const leaseTtlMs = durationOption(who, 'lease.ttlMs', leaseOptions?.ttlMs, 10_000)
  durationOption(who, 'lease.renewMs', leaseOptions?.renewMs, 1)
  checkExclude(name, options.exclude)
  const excludeStage = options.collection === undefined ? ownCollectionsStage(tokens, options.exclude) : null
  if (leaseOptions !== undefined && tokens.lease === undefined) {
    throw new RtError('invalid_option', `mongoChangeStream ${name}: \`lease\` needs a token store with leases`)
  }
  if (policy !== 'reset' && policy !== 'fail') {
    throw new RtError('invalid_option', `mongoChangeStream ${name}: onHistoryLost must be 'reset' or 'fail'`)
  }

  let context: SourceContext<Events> | null = null
  let started = false
  let leader: Leader | null = null
  /** The watch loop and the signal that ends it. */
  let run: { promise: Promise<void>; abort: AbortController } | null = null
  let stream: ChangeStream<Document, Document> | null = null
  /** The getMore in flight (`tryNext`), if any. */
  let inFlight: Promise<unknown> | null = null
  /** The current stream made progress: the backoff starts over if it dies. A change that
   * keeps failing in `map` or `publish` does not count, so its retries slow down. */
  let healthy = false
  /** A reset owed to the reset topics before the next event. */
  let pendingReset: SourceResetReason | null = null
  /** Why the source failed under `onHistoryLost: 'fail'`, for `recover()`. */
  let failedOn: SourceResetReason = 'history_lost'

  const status = {
    state: 'stopped' as SourceStatus['state'],
    error: undefined as string | undefined,
    lastEventAt: undefined as number | undefined,
    lastTokenAt: undefined as number | undefined,
    lastChangeAt: undefined as number | undefined,
    lagMs: undefined as number | undefined,
    restarts: 0,
  }

  /** Recently used topics, oldest first. */
  const topics = new Set<string>()
  let topicsDirty = false
  let savedText: string | null = null
  let lastSaveAt = Number.NEGATIVE_INFINITY
  /**
   * What this source has logged past its checkpoint: the token of the last change whose
   * events were all appended, and how many events of the change being published were. A
   * change read again after a failed append (the stream reopens at the checkpoint) is
   * not appended again, even by a log that lost the keys that would have deduplicated it
   * (a Redis restarted empty: its clients are reset, and the snapshot they refetch holds
   * the change). Hex tokens only: other tokens fall back on the log's keys.
   */
  let logged: string | null = null
  let partly: { readonly text: string; done: number } | null = null

  function remember(topic: string): void {
    if (topics.delete(topic)) {
      topics.add(topic)
      return
    }
    topics.add(topic)
    topicsDirty = true
    if (topics.size > maxTopics) topics.delete(topics.values().next().value as string)
  }

  function fail(error: unknown): void {
    status.state = 'failed'
    status.error = errorText(error)
    context?.reportError(error)
  }

  /**
   * A change at or before the checkpoint: already logged. Tokens sort as the oplog does, so a
   * driver that resumed from an older token than its last one (NODE-7042) replays changes
   * this source has seen; they are skipped rather than mapped again.
   */
  function isBehind(token: ResumeToken): boolean {
    const data = token._data
    if (typeof data !== 'string' || !isHex(data)) return false
    return (savedText !== null && isHex(savedText) && data <= savedText) || (logged !== null && data <= logged)
  }

  async function save(token: ResumeToken): Promise<void> {
    const text = tokenText(token)
    if (text === savedText && !topicsDirty) return
    // Never back in time: the post-batch token of a resumed stream can be behind the checkpoint.
    if (savedText !== null && isHex(text) && isHex(savedText) && text < savedText) return
    const checkpoint: Checkpoint = {
      token,
      changeAt: status.lastChangeAt,
      topics: topicsDirty ? [...topics] : undefined,
    }
    topicsDirty = false
    try {
      await tokens.save(name, checkpoint)
    } catch (error) {
      if (checkpoint.topics !== undefined) topicsDirty = true
      throw error
    }
    savedText = text
    lastSaveAt = timers.now()
    status.lastTokenAt = lastSaveAt
  }

  async function resetTopics(ctx: SourceContext<Events>, reason: SourceResetReason): Promise<void> {
    const given = options.resetTopics
    const list = given === undefined ? [...topics] : typeof given === 'function' ? await given(reason) : given
    // No key: a reset repeated after a crash is harmless, a reset deduplicated away is not.
    for (const topic of list) await ctx.reset(topic, reason)
  }

  async function publishChange(ctx: SourceContext<Events>, change: Document): Promise<void> {
    const mapped = await map(change)
    const events = mapped == null ? [] : Array.isArray(mapped) ? mapped : [mapped as PublishInput<Events>]
    const token = change._id as ResumeToken
    const text = tokenText(token)
    const from = partly?.text === text ? partly.done : 0
    for (let i = from; i < events.length; i++) {
      const event = events[i] as PublishInput<Events>
      await ctx.publish({ ...event, key: await eventKey(name, token, i) })
      remember(event.topic)
      partly = { text, done: i + 1 }
    }
    partly = null
    if (isHex(text) && (logged === null || text > logged)) logged = text
    const at = timers.now()
    if (events.length > 0) status.lastEventAt = at
    const time = changeTime(change)
    if (time !== undefined) {
      status.lastChangeAt = time
      status.lagMs = Math.max(0, at - time)
    }
  }

  function open(fromNow: boolean, checkpoint: Checkpoint | null): ChangeStream<Document, Document> {
    const watchOptions: ChangeStreamOptions = { maxAwaitTimeMS: maxAwaitMs }
    if (options.fullDocument !== undefined) watchOptions.fullDocument = options.fullDocument
    if (options.fullDocumentBeforeChange !== undefined) {
      watchOptions.fullDocumentBeforeChange = options.fullDocumentBeforeChange
    }
    if (options.batchSize !== undefined) watchOptions.batchSize = options.batchSize
    if (!fromNow && checkpoint !== null) watchOptions.startAfter = checkpoint.token
    else if (!fromNow && options.startAtOperationTime !== undefined) {
      watchOptions.startAtOperationTime = options.startAtOperationTime
    }
    const pipeline = excludeStage === null ? (options.pipeline ?? []) : [excludeStage, ...(options.pipeline ?? [])]
    return (target as Collection<Document>).watch(pipeline, watchOptions) as ChangeStream<Document, Document>
  }

  /** One stream from open to death. Returns when it must be reopened, throws when it died. */
  async function watchOnce(ctx: SourceContext<Events>, signal: AbortSignal): Promise<void> {
    const fromNow = pendingReset !== null
    const checkpoint = fromNow ? null : await tokens.load(name)
    if (checkpoint !== null) {
      for (const topic of checkpoint.topics ?? []) if (!topics.has(topic)) topics.add(topic)
      savedText = tokenText(checkpoint.token)
    } else {
      savedText = null
    }
    if (signal.aborted) return
    const current = open(fromNow, checkpoint)
    const fragments = createAssembler()
    stream = current
    try {
      for (;;) {
        if (signal.aborted) return
        const polled = current.tryNext()
        inFlight = polled
        const next = await polled.finally(() => {
          inFlight = null
        })
        if (signal.aborted) return
        status.state = 'running'
        status.error = undefined
        if (pendingReset !== null) {
          await resetTopics(ctx, pendingReset)
          pendingReset = null
        }
        if (next === null) {
          // A cursor the server closed (id 0) answers null at once, forever: reopen instead.
          if (current.closed) throw new Error(`change stream ${name} was closed by the server`)
          // Caught up: an empty batch still moves the post-batch token (never mid-event).
          healthy = true
          status.lagMs = 0
          const token = current.resumeToken as ResumeToken | null
          if (
            token != null &&
            !fragments.pending &&
            (savedText === null || timers.now() - lastSaveAt >= checkpointMs)
          ) {
            await save(token)
          }
          continue
        }
        const change = fragments.push(next)
        if (change === null) continue
        if (isBehind(change._id as ResumeToken)) continue
        if (change.operationType === 'invalidate') {
          if (policy === 'fail') throw new RtError('history_lost', `change stream ${name} was invalidated`)
          // Resume just after the invalidation (startAfter allows it), telling the topics first.
          await resetTopics(ctx, 'invalidated')
          await save(change._id as ResumeToken)
          return
        }
        await publishChange(ctx, change)
        healthy = true
        if (current.bufferedCount() === 0 || timers.now() - lastSaveAt >= checkpointMs) {
          await save(current.resumeToken as ResumeToken)
        }
      }
    } finally {
      stream = null
      await closeOnce(current)
    }
  }

  async function loop(signal: AbortSignal): Promise<void> {
    let attempt = 0
    while (!signal.aborted) {
      const ctx = context as SourceContext<Events>
      healthy = false
      try {
        await watchOnce(ctx, signal)
        attempt = 0
      } catch (error) {
        if (signal.aborted) return
        // A stream that ran before it died starts the backoff over.
        if (healthy) attempt = 0
        const outcome = classify(error)
        if (outcome === Stop) return
        if (outcome === 'retry') {
          status.restarts++
          status.state = 'starting'
          status.error = errorText(error)
          options.onError?.(error)
          await sleep(timers, backoffDelay(attempt++, options.backoff), signal)
        }
      }
    }
  }

  /** What to change, for errors that fail the source: a retry would meet them again. */
  function fatalError(error: unknown): string | undefined {
    if (isModifiedId(error)) {
      return 'its pipeline changed or removed `_id` (the resume token) of a change; keep `_id` as it is (code 280)'
    }
    if (isMissingImage(error)) {
      const ns = options.collection ? `'${options.collection.collectionName}'` : "'<collection>'"
      return (
        "a change has no pre- or post-image, but `fullDocument` or `fullDocumentBeforeChange` is 'required'. " +
        `Enable them on the collection: db.runCommand({ collMod: ${ns}, changeStreamPreAndPostImages: { enabled: true } }) ` +
        "(changes written before that have none), or use 'whenAvailable' (code 47)"
      )
    }
    if (isTooLarge(error)) {
      return (
        'a change is over the 16 MB document limit. End the pipeline with { $changeStreamSplitLargeEvent: {} } ' +
        '(MongoDB 7.0+; rt puts the fragments back together), or $project large fields away (keep _id), ' +
        'or ask for fewer images (fullDocument, fullDocumentBeforeChange) (code 10334)'
      )
    }
    return undefined
  }

  /** Decides what a dead stream means: stop, reopen at once, or reopen after a backoff. */
  function classify(error: unknown): typeof Stop | 'reopen' | 'retry' {
    if (isRtError(error) && error.code === 'hub_closed') {
      status.state = 'stopped'
      return Stop
    }
    if (isStandalone(error)) {
      fail(replicaSetRequired(error))
      return Stop
    }
    // Errors no retry can fix: the same change fails the same way every time it is read.
    const fatal = fatalError(error)
    if (fatal !== undefined) {
      fail(new RtError('invalid_option', `change stream ${name}: ${fatal}`, { cause: error }))
      return Stop
    }
    const invalidated = isRtError(error) && error.code === 'history_lost'
    const foreign = isForeignToken(error)
    if (invalidated || foreign || isHistoryLost(error)) {
      if (policy === 'fail') {
        failedOn = invalidated ? 'invalidated' : 'history_lost'
        const why = foreign
          ? 'the stored resume token is not from this stream (a source `name` reused for another collection or deployment?)'
          : 'the oplog no longer holds its position'
        fail(
          invalidated
            ? error
            : new RtError('history_lost', `change stream ${name} cannot resume: ${why}`, { cause: error }),
        )
        return Stop
      }
      pendingReset = 'history_lost'
      status.restarts++
      options.onError?.(error)
      return 'reopen'
    }
    return 'retry'
  }

  function launch(): void {
    if (run !== null) return
    const abort = new AbortController()
    status.state = 'starting'
    run = { abort, promise: loop(abort.signal) }
  }

  /** Resolves when the getMore in flight comes back (or fails), or after `ms`. */
  function pollSettled(ms: number): Promise<void> {
    if (inFlight === null) return Promise.resolve()
    const stopWaiting = new AbortController()
    const settled = inFlight.then(
      () => {},
      () => {},
    )
    return Promise.race([settled, sleep(timers, ms, stopWaiting.signal)]).finally(() => stopWaiting.abort())
  }

  async function halt(): Promise<void> {
    const current = run
    if (current === null) return
    current.abort.abort()
    // Closing the driver's stream under a getMore in flight ends its session, and the
    // close's killCursors then fails silently, leaving the cursor open on the server. A
    // getMore comes back within maxAwaitTimeMS: wait for it (with a ceiling for a hung
    // connection), so the loop closes the stream itself.
    await pollSettled(maxAwaitMs + 1_000)
    if (stream !== null) await closeOnce(stream)
    await current.promise
    if (run === current) run = null
  }

  async function start(ctx?: SourceContext<Events>): Promise<void> {
    if (ctx !== undefined) context = ctx
    if (context === null) {
      throw new RtError('invalid_option', `mongoChangeStream ${name}: attach the source with hub.attach(source) first`)
    }
    if (started) return
    started = true
    status.state = 'starting'
    status.error = undefined
    try {
      await checkReplicaSet(untyped)
    } catch (error) {
      if (isRtError(error) && error.code === 'replica_set_required') {
        started = false
        status.state = 'failed'
        status.error = error.message
        throw error
      }
      // Unreachable for now: the watch loop retries with backoff.
      status.error = errorText(error)
      options.onError?.(error)
    }
    if (!started) return
    if (leaseOptions === undefined || tokens.lease === undefined) return launch()
    const ttlMs = leaseTtlMs
    leader = createLeader({
      store: tokens.lease,
      name,
      holder: leaseOptions.holder ?? crypto.randomUUID(),
      ttlMs,
      renewMs: leaseOptions.renewMs ?? Math.max(1, Math.floor(ttlMs / 3)),
      timers,
      onAcquire: launch,
      async onLose() {
        await halt()
        if (started) status.state = 'standby'
      },
      onError: (error) => options.onError?.(error),
    })
    await leader.start()
    if (!leader.held && started) status.state = 'standby'
  }

  async function stop(): Promise<void> {
    started = false
    const current = leader
    leader = null
    await current?.pause()
    await halt()
    await current?.release().catch((error: unknown) => options.onError?.(error))
    status.state = 'stopped'
  }

  return {
    name,
    start,
    stop,
    async recover() {
      await stop()
      pendingReset = failedOn
      await start()
    },
    status(): MongoSourceStatus {
      return { ...status, leader: leader === null ? undefined : leader.held }
    },
  }
}
