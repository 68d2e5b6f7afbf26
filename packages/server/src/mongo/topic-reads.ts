/**
 * Filtered reads of `mongoLog`, batched: reads that wait while others are in flight go to
 * MongoDB together, one query for all of them, so a reconnect storm of thousands of
 * resumes costs tens of round trips rather than thousands.
 * @module
 */
import type { Collection, Document, Filter } from 'mongodb'
import { type LogEntry, type LogFilter, type LogRead, matchesFilter, RtError } from '../index.js'

/** The fields of an entry document these reads use. */
export interface TopicDocument {
  _id: number
  topic?: string
  to?: string[]
}

/** One filtered read: the entries of the filter's topics in `(after, end]`, at most `limit`. */
interface Pending {
  readonly after: number
  readonly end: number
  readonly limit: number
  readonly filter: LogFilter
  readonly resolve: (read: LogRead) => void
  readonly reject: (error: unknown) => void
}

/** How reads are batched. */
export interface TopicReadsOptions {
  /** Batches in flight at once; reads arriving meanwhile wait and go out together. @default 4 */
  inFlight?: number
  /** Reads in one batch, so a query's `$or` stays small. @default 100 */
  reads?: number
  /** Entries one batch fetches at most; reads past them continue from where it stopped. @default 5_000 */
  entries?: number
}

export interface TopicReads {
  read(after: number, end: number, limit: number, filter: LogFilter): Promise<LogRead>
  /** Fails the reads that wait. */
  close(): void
}

/**
 * Reads through the `{ topic: 1, _id: 1 }` index. A batch is two queries: which positions
 * still exist (retention removes the oldest first, so the entry after a position is there
 * or evicted), then one `find` whose `$or` has a clause per read, sorted by `_id` and
 * limited. Each read gets the entries its filter accepts; when the batch stopped at its
 * limit, every entry up to the last one fetched was seen, so a read continues from there.
 */
export function topicReads<T extends TopicDocument>(
  entries: Collection<T>,
  toEntry: (doc: T) => LogEntry,
  idOf: (seq: number) => string,
  options: TopicReadsOptions = {},
): TopicReads {
  const { inFlight: maxInFlight = 4, reads: maxReads = 100, entries: maxEntries = 5_000 } = options
  const waiting: Pending[] = []
  let inFlight = 0
  let closed = false

  function pump(): void {
    while (inFlight < maxInFlight && waiting.length > 0) {
      const batch = waiting.splice(0, maxReads)
      inFlight++
      run(batch)
        .catch((error: unknown) => {
          for (const read of batch) read.reject(error)
        })
        .finally(() => {
          inFlight--
          pump()
        })
    }
  }

  async function run(batch: Pending[]): Promise<void> {
    const firsts = [...new Set(batch.map((read) => read.after + 1))]
    const present = await entries
      .find({ _id: { $in: firsts } } as Filter<T>, { projection: { _id: 1 }, batchSize: firsts.length + 1 })
      .toArray()
    const there = new Set<number>(present.map((doc) => doc._id as number))
    const live: Pending[] = []
    for (const read of batch) {
      if (there.has(read.after + 1)) live.push(read)
      else read.resolve({ ok: false, reason: 'evicted' })
    }
    if (live.length === 0) return
    const limit = Math.min(
      maxEntries,
      live.reduce((sum, read) => sum + read.limit, 0),
    )
    const clauses = live.map(clause)
    const query = (clauses.length === 1 ? clauses[0] : { $or: clauses }) as Filter<T>
    const docs = await entries
      .find(query)
      .sort({ _id: 1 })
      .limit(limit)
      .batchSize(limit + 1)
      .toArray()
    // A full batch may have left entries out, but none at or below its last one.
    const last = docs.at(-1)
    const seen = docs.length === limit && last !== undefined ? (last._id as number) : Number.POSITIVE_INFINITY
    // The batch's entries by topic, in order, so each read visits only its own topics.
    const byTopic = new Map<string, Found[]>()
    for (const doc of docs) {
      const entry = toEntry(doc as T)
      const list = byTopic.get(entry.topic)
      const found = { seq: doc._id as number, entry }
      if (list === undefined) byTopic.set(entry.topic, [found])
      else list.push(found)
    }
    const again: Pending[] = []
    for (const read of live) {
      const mine: LogEntry[] = []
      let at = read.after
      for (const { seq, entry } of ofTopics(byTopic, read.filter.topics)) {
        if (seq <= read.after || seq > read.end || !matchesFilter(entry, read.filter)) continue
        if (mine.length === read.limit) break
        mine.push(entry)
        at = seq
      }
      if (mine.length === read.limit && at < read.end) {
        read.resolve({ ok: true, entries: mine, more: true, cursor: idOf(at) })
      } else if (seen < read.end) {
        // Cut short by another read's entries: everything up to `seen` was fetched.
        if (seen <= read.after) again.push(read)
        else read.resolve({ ok: true, entries: mine, more: true, cursor: idOf(seen) })
      } else {
        read.resolve({ ok: true, entries: mine, more: false, cursor: idOf(read.end) })
      }
    }
    // Reads that got nothing because earlier entries filled the batch go first next time.
    if (closed) for (const read of again) read.reject(new RtError('hub_closed', 'mongoLog: the log is closed'))
    else waiting.unshift(...again)
  }

  return {
    read(after, end, limit, filter) {
      if (after >= end) return Promise.resolve({ ok: true, entries: [], more: false })
      if (closed) return Promise.reject(new RtError('hub_closed', 'mongoLog: the log is closed'))
      return new Promise<LogRead>((resolve, reject) => {
        waiting.push({ after, end, limit, filter, resolve, reject })
        pump()
      })
    },
    close() {
      closed = true
      const error = new RtError('hub_closed', 'mongoLog: the log is closed')
      for (const read of waiting.splice(0)) read.reject(error)
    },
  }
}

interface Found {
  readonly seq: number
  readonly entry: LogEntry
}

/** The entries of these topics, in sequence order. */
function ofTopics(byTopic: ReadonlyMap<string, Found[]>, topics: ReadonlySet<string>): readonly Found[] {
  if (topics.size === 1) return byTopic.get(topics.values().next().value as string) ?? []
  const all: Found[] = []
  for (const topic of topics) all.push(...(byTopic.get(topic) ?? []))
  return all.sort((a, b) => a.seq - b.seq)
}

/** The query for one read: its topics, its range, entries for everyone or for its user. */
function clause(read: Pending): Document {
  const to: Document[] = [{ to: { $exists: false } }]
  if (read.filter.userId !== undefined) to.push({ to: read.filter.userId })
  return { topic: { $in: [...read.filter.topics] }, _id: { $gt: read.after, $lte: read.end }, $or: to }
}
