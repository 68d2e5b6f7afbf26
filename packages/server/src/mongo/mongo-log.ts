/**
 * `mongoLog`: a delivery log in a MongoDB collection (an outbox), durable and shared by
 * every node that points at it.
 * @module
 */
import type { Collection, Db, IndexDescription } from 'mongodb'
import {
  countOption,
  durationOption,
  type Log,
  type LogAppend,
  type LogEntry,
  type LogFilter,
  type LogRead,
  RtError,
} from '../index.js'
import { isDuplicateKey } from './errors.js'
import { type MongoTimers, realTimers } from './timers.js'
import { type TopicReadsOptions, topicReads } from './topic-reads.js'

/** How long entries are kept for resume. */
export interface MongoLogRetention {
  /** Entries older than this are removed by a TTL index (MongoDB checks about once a minute). */
  maxAgeMs?: number
  /** At most about this many entries are kept; older ones are deleted as new ones arrive. */
  maxEntries?: number
}

/** Options of {@link mongoLog}. */
export interface MongoLogOptions {
  /** The database holding the log. */
  db: Db
  /** The entries collection; its sequence lives in `<collection>.meta`. @default 'rt_log' */
  collection?: string
  /** @default { maxAgeMs: 86_400_000 } (one day) */
  retention?: MongoLogRetention
  /**
   * How often each node reads entries appended by other nodes. Its own appends are read
   * at once.
   * @default 200
   */
  pollMs?: number
  /**
   * How long a hole in the sequence (a writer that took a number and died, or is stalled)
   * may hold back later entries before it is marked skipped. A stalled writer then
   * appends again under a new number.
   * @default 2_000
   */
  gapMs?: number
  /** Called with errors the log recovers from (a failed poll). */
  onError?: (error: unknown) => void
  /** @internal Timers for tests. */
  timers?: MongoTimers
  /** @internal How filtered reads are batched, for tests. */
  readBatch?: TopicReadsOptions
}

/** An entry document. `data` is the event's JSON text, kept verbatim. */
interface EntryDocument {
  _id: number
  ts: Date
  type?: string
  topic?: string
  to?: string[]
  data?: string
  key?: string
  /** A sequence number that holds no event: skipped after a dead or duplicate append. */
  skip?: true
}

interface MetaDocument {
  _id: string
  epoch: string
  seq: number
}

const META_ID = 'sequence'
const PAGE = 500
/** How far below the newest entry a starting node looks for holes left by dead writers. */
const RECENT = 1_000
const ID = /^([0-9a-z]{1,64})-(\d{1,15})$/

function randomEpoch(): string {
  const bytes = new Uint8Array(8)
  crypto.getRandomValues(bytes)
  return Array.from(bytes, (b) => b.toString(36).padStart(2, '0')).join('')
}

/**
 * A durable delivery log in MongoDB, for apps without change streams (publish to it and
 * events survive restarts) and for several nodes that must agree on ids without Redis.
 *
 * Every append takes the next number from an atomic counter (`$inc`) and inserts
 * `{ _id: seq, … }`; a unique index on the idempotency key turns a repeated append into
 * the first entry. Each node reads the collection in sequence order and tells its
 * subscribers, so events appended by any node reach every node's clients in the same order
 * with the same ids (`<epoch>-<seq>`, the epoch being fixed when the log is first created).
 *
 * `head()` and `read()` follow what this node has read back (within `pollMs`, at once for
 * its own appends), so a replay never overlaps the live delivery that follows it.
 *
 * Resolves once indexes exist and the log's position is known.
 *
 * @example
 * ```ts
 * const log = await mongoLog({ db: client.db('app'), retention: { maxAgeMs: 6 * 3_600_000 } })
 * const hub = createHub({ log })
 * ```
 */
export async function mongoLog(options: MongoLogOptions): Promise<Log> {
  const name = options.collection ?? 'rt_log'
  const entries: Collection<EntryDocument> = options.db.collection<EntryDocument>(name)
  const meta: Collection<MetaDocument> = options.db.collection<MetaDocument>(`${name}.meta`)
  const timers = options.timers ?? realTimers
  const who = 'mongoLog'
  const pollMs = durationOption(who, 'pollMs', options.pollMs, 200)
  const gapMs = durationOption(who, 'gapMs', options.gapMs, 2_000)
  const retention = options.retention ?? { maxAgeMs: 86_400_000 }
  // Retention is no timer (a TTL index): longer than a timer can wait is fine.
  const maxAgeMs = retention.maxAgeMs === undefined ? undefined : countOption(who, 'maxAgeMs', retention.maxAgeMs, 0)
  const maxEntries =
    retention.maxEntries === undefined ? undefined : countOption(who, 'maxEntries', retention.maxEntries, 0, true)
  const trimEvery = maxEntries === undefined ? 0 : Math.max(1, Math.min(100, Math.floor(maxEntries / 10)))

  const indexes: IndexDescription[] = [
    { key: { key: 1 }, name: 'key_unique', unique: true, sparse: true },
    // Filtered reads: the entries of a reader's topics in sequence order.
    { key: { topic: 1, _id: 1 }, name: 'topic_seq' },
  ]
  if (maxAgeMs !== undefined) {
    indexes.push({ key: { ts: 1 }, name: 'ts_ttl', expireAfterSeconds: Math.max(1, Math.ceil(maxAgeMs / 1000)) })
  }
  await entries.createIndexes(indexes)
  const epoch = await loadEpoch(meta)
  const idOf = (seq: number) => `${epoch}-${seq}`

  const newest = await entries
    .find({}, { projection: { _id: 1 } })
    .sort({ _id: -1 })
    .limit(1)
    .next()
  /** Everything up to here was told to listeners (or existed before this node started). */
  let head = newest?._id ?? (await meta.findOne({ _id: META_ID }))?.seq ?? 0

  const listeners = new Set<(entry: LogEntry) => void>()
  const waiters = new Set<{ seq: number; resolve: () => void; fail: () => void }>()
  let closed = false
  let timer: unknown = null
  let polling: Promise<void> | null = null
  let again = false
  /** The first missing number and when it was first seen missing. */
  let gap: { seq: number; since: number } | null = null

  function toEntry(doc: EntryDocument): LogEntry {
    return {
      id: idOf(doc._id),
      type: doc.type as string,
      topic: doc.topic as string,
      to: doc.to,
      data: JSON.parse(doc.data as string),
      ts: doc.ts.getTime(),
      key: doc.key,
    }
  }

  async function skip(seq: number): Promise<void> {
    try {
      await entries.insertOne({ _id: seq, ts: new Date(timers.now()), skip: true })
    } catch (error) {
      if (!isDuplicateKey(error)) throw error
    }
  }

  function advance(seq: number): void {
    head = seq
    for (const waiter of waiters) {
      if (waiter.seq <= head) {
        waiters.delete(waiter)
        waiter.resolve()
      }
    }
  }

  /** Reads what follows `head` and tells listeners, in order, stopping at a hole. */
  async function pollOnce(): Promise<void> {
    for (;;) {
      const docs = await entries
        .find({ _id: { $gt: head } })
        .sort({ _id: 1 })
        .limit(PAGE)
        .batchSize(PAGE + 1)
        .toArray()
      let hole = false
      for (const doc of docs) {
        if (doc._id !== head + 1) {
          hole = true
          break
        }
        advance(doc._id)
        if (doc.skip !== true) {
          const entry = toEntry(doc)
          for (const listener of listeners) listener(entry)
        }
      }
      if (hole) {
        const missing = head + 1
        if (gap?.seq !== missing) gap = { seq: missing, since: timers.now() }
        if (timers.now() - gap.since < gapMs) return
        // The writer of `missing` died or stalls: mark it skipped (a stalled writer's
        // insert then fails and it takes a new number) and go on.
        await skip(missing)
        continue
      }
      gap = null
      if (docs.length < PAGE) return
    }
  }

  function schedule(ms: number): void {
    if (closed || timer !== null) return
    timer = timers.setTimeout(() => {
      timer = null
      poll()
    }, ms)
  }

  /** Starts a poll, or asks the running one to go again when it ends. */
  function poll(): void {
    if (closed) return
    if (polling !== null) {
      again = true
      return
    }
    if (timer !== null) {
      timers.clearTimeout(timer)
      timer = null
    }
    polling = pollOnce()
      .catch((error: unknown) => options.onError?.(error))
      .finally(() => {
        polling = null
        if (again) {
          again = false
          poll()
        } else {
          const wait = gap === null ? pollMs : Math.min(pollMs, Math.max(1, gapMs - (timers.now() - gap.since)))
          schedule(wait)
        }
      })
  }

  /** Resolves once the tail has passed `seq`, so a read up to `seq` cannot race live delivery. */
  function reach(seq: number): Promise<void> {
    if (seq <= head) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        seq,
        resolve: () => done(resolve),
        fail: () => done(() => reject(new RtError('hub_closed', 'mongoLog: the log is closed'))),
      }
      const limit = timers.setTimeout(
        () => done(() => reject(new RtError('internal', 'mongoLog: the log tail did not catch up'))),
        gapMs + pollMs * 5 + 5_000,
      )
      const done = (then: () => void) => {
        waiters.delete(waiter)
        timers.clearTimeout(limit)
        then()
      }
      waiters.add(waiter)
      poll()
    })
  }

  /** The entries of the filter's topics in `(after, end]`, through the topic index, batched. */
  const topics = topicReads(entries, toEntry, idOf, options.readBatch)

  async function trim(seq: number): Promise<void> {
    if (maxEntries === undefined || seq % trimEvery !== 0) return
    await entries.deleteMany({ _id: { $lte: seq - maxEntries } })
  }

  // Writers that died with every tail (all nodes down) leave holes just below the newest
  // entry. Mark them skipped now, or a reader would take them for evicted entries.
  if (newest !== null) {
    const recent = await entries
      .find({ _id: { $gt: newest._id - RECENT } }, { projection: { _id: 1 } })
      .sort({ _id: 1 })
      .toArray()
    const present = new Set(recent.map((doc) => doc._id))
    const lowest = recent[0]?._id ?? newest._id
    for (let seq = lowest + 1; seq < newest._id; seq++) if (!present.has(seq)) await skip(seq)
  }

  poll()

  return {
    async append(input: LogAppend): Promise<LogEntry> {
      if (closed) throw new RtError('hub_closed', 'mongoLog: the log is closed')
      const data = JSON.stringify(input.data)
      for (;;) {
        const counter = await meta.findOneAndUpdate(
          { _id: META_ID },
          { $inc: { seq: 1 } },
          { returnDocument: 'after', upsert: true },
        )
        const seq = counter?.seq as number
        const doc: EntryDocument = { _id: seq, ts: new Date(timers.now()), type: input.type, topic: input.topic, data }
        if (input.to !== undefined) doc.to = [...input.to]
        if (input.key !== undefined) doc.key = input.key
        try {
          await entries.insertOne(doc)
        } catch (error) {
          if (!isDuplicateKey(error)) throw error
          if (input.key !== undefined) {
            const existing = await entries.findOne({ key: input.key })
            if (existing !== null) {
              await skip(seq)
              poll()
              return toEntry(existing)
            }
          }
          // Our number was marked skipped while we stalled: take another.
          continue
        }
        poll()
        await trim(seq).catch((error: unknown) => options.onError?.(error))
        return toEntry(doc)
      }
    },

    /** An id issued by a node whose tail is ahead of ours: wait for our tail, bounded. */
    async catchUp(afterId: string): Promise<void> {
      const match = ID.exec(afterId)
      const after = match === null || match[1] !== epoch ? 0 : Number(match[2])
      if (after <= head) return
      const counter = await meta.findOne({ _id: META_ID }).catch(() => null)
      if (counter === null || after > counter.seq) return
      await reach(after).catch(() => {})
    },

    async read(afterId: string, limit: number, filter?: LogFilter): Promise<LogRead> {
      const match = ID.exec(afterId)
      if (match === null) return { ok: false, reason: 'malformed' }
      if (match[1] !== epoch) return { ok: false, reason: 'unknown' }
      let after = Number(match[2])
      if (after > head) {
        // Past what our listeners were told: answering would let the tail tell the caller
        // entries at or before its position. `catchUp` waits for the tail first.
        const counter = await meta.findOne({ _id: META_ID })
        if (counter === null || after > counter.seq) return { ok: false, reason: 'unknown' }
        throw new RtError('unavailable', 'mongoLog: this node is behind the log', { status: 503, retryAfter: 1 })
      }
      const end = head
      if (filter !== undefined) return topics.read(after, end, limit, filter)
      for (;;) {
        if (after >= end) return { ok: true, entries: [], more: false }
        const docs = await entries
          .find({ _id: { $gt: after, $lte: end } })
          .sort({ _id: 1 })
          .limit(limit)
          .batchSize(limit + 1)
          .toArray()
        // Everything up to `end` was written (or skipped) before the tail passed it, so
        // a missing number was removed by retention.
        if (docs[0]?._id !== after + 1) return { ok: false, reason: 'evicted' }
        const out: LogEntry[] = []
        let last = after
        for (const doc of docs) {
          if (doc._id !== last + 1) break
          last = doc._id
          if (doc.skip !== true) out.push(toEntry(doc))
        }
        const more = last < end
        // Never answer an empty page with `more`: the caller continues from the last entry.
        if (out.length > 0 || !more) return { ok: true, entries: out, more }
        after = last
      }
    },

    async lookup(ids) {
      const seqs = new Map<string, number>()
      for (const id of ids) {
        const match = ID.exec(id)
        if (match !== null && match[1] === epoch) seqs.set(id, Number(match[2]))
      }
      if (seqs.size === 0) return ids.map(() => undefined)
      const docs = await entries.find({ _id: { $in: [...seqs.values()] } }).toArray()
      const bySeq = new Map(docs.filter((doc) => doc.skip !== true).map((doc) => [doc._id, toEntry(doc)]))
      return ids.map((id) => {
        const seq = seqs.get(id)
        return seq === undefined ? undefined : bySeq.get(seq)
      })
    },

    head: () => idOf(head),

    subscribe(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },

    async close() {
      closed = true
      topics.close()
      for (const waiter of waiters) waiter.fail()
      if (timer !== null) {
        timers.clearTimeout(timer)
        timer = null
      }
      await polling
    },
  }
}

/** The log's epoch, fixed by whichever node created the sequence document first. */
async function loadEpoch(meta: Collection<MetaDocument>): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      const doc = await meta.findOneAndUpdate(
        { _id: META_ID },
        { $setOnInsert: { epoch: randomEpoch(), seq: 0 } },
        { upsert: true, returnDocument: 'after' },
      )
      if (doc !== null) return doc.epoch
    } catch (error) {
      // Two nodes creating it at once: one upsert loses with a duplicate key; read again.
      if (!isDuplicateKey(error) || attempt > 2) throw error
    }
  }
}
