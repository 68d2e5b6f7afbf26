import { randomBytes } from 'node:crypto'
import { type Document, type Long, Timestamp, type UUID } from 'bson'
import { CommandError } from './errors.js'

/** What a log entry records; `invalidate` entries are seen only by the streams they close. */
export type ChangeKind =
  | 'insert'
  | 'update'
  | 'replace'
  | 'delete'
  | 'drop'
  | 'dropDatabase'
  | 'rename'
  | 'invalidate'
  | ExpandedKind

/** Events only `showExpandedEvents` streams see (6.0+). */
export type ExpandedKind = 'create' | 'createIndexes' | 'dropIndexes' | 'modify'

export const EXPANDED_KINDS: ReadonlySet<ChangeKind> = new Set(['create', 'createIndexes', 'dropIndexes', 'modify'])

/** One change, as the oplog would hold it. */
export interface LogEntry {
  readonly seq: number
  readonly ts: Timestamp
  readonly wall: Date
  readonly kind: ChangeKind
  readonly ns: { readonly db: string; readonly coll?: string }
  /** For `invalidate`: which kind of stream it closes. */
  readonly closes?: 'collection' | 'database'
  readonly documentKey?: Document
  readonly post?: Document | null
  readonly pre?: Document | null
  readonly updateDescription?: Document
  /** What `showExpandedEvents` streams add to `updateDescription` (6.1+). */
  readonly disambiguatedPaths?: Document
  /** The collection's UUID (`collectionUUID` on `showExpandedEvents` streams). */
  readonly uuid?: UUID
  /** `rename`: the new namespace. */
  readonly to?: { readonly db: string; readonly coll: string }
  /** DDL events on `showExpandedEvents` streams: what the operation did. */
  readonly operationDescription?: Document
  /** `modify`: the collection options before the change. */
  readonly stateBeforeChange?: Document
  /** Written by a committed transaction: its session and number. */
  readonly txn?: Transaction['id']
  /**
   * The collection had `changeStreamPreAndPostImages` enabled when the change was written: only
   * then are `pre` (and the post-image of an update) available to `whenAvailable`/`required`.
   */
  readonly images?: boolean
}

export type NewEntry = Omit<LogEntry, 'seq' | 'ts' | 'wall' | 'txn'>

/** A multi-document transaction in progress: its changes, and how to undo its writes. */
export interface Transaction {
  readonly id: { readonly lsid: Document; readonly txnNumber: Long }
  readonly entries: NewEntry[]
  readonly undo: (() => void)[]
}

/** What a resume token stands for: an event, an `invalidate`, or a position between events. */
export type TokenKind = 'event' | 'invalidate' | 'highWaterMark'

/** A decoded resume token: the log position it stands for. */
export interface TokenPosition {
  readonly seq: number
  readonly kind: TokenKind
  /** For a fragment of a split event: its number (1-based); 0 otherwise. */
  readonly fragment: number
}

const KIND_FLAG: Record<TokenKind, string> = { event: '00', invalidate: '01', highWaterMark: '02' }
const TOKEN = /^([0-9a-f]{16})(0[0-2])([0-9a-f]{2})([0-9a-f]{8})$/

/** Compares two cluster times. */
export function compareTs(a: Timestamp, b: Timestamp): number {
  return a.t !== b.t ? a.t - b.t : a.i - b.i
}

/**
 * The change history shared by every change stream: a sequence of entries with cluster times,
 * a retention floor (tokens older than it answer 286), and waiters for blocked `getMore`s.
 */
export class ChangeLog {
  /** Random per instance, so a token from another (e.g. restarted) simulator is recognised as lost. */
  private readonly epoch = randomBytes(4).toString('hex')
  private entries: LogEntry[] = []
  private start = 0
  private waiters = new Set<() => void>()
  private last: Timestamp
  /** Highest position handed out (an entry's seq, or a no-op tick from {@link truncate}). */
  head = 0
  /** Tokens with a position below this have lost history. */
  floor = 0
  floorTs: Timestamp = new Timestamp({ t: 0, i: 0 })

  constructor(private readonly limit: number) {
    this.last = new Timestamp({ t: Math.floor(Date.now() / 1000), i: 1 })
  }

  /** The latest cluster time (a reply's `operationTime`). */
  get clusterTime(): Timestamp {
    return this.last
  }

  private tick(): Timestamp {
    const now = Math.floor(Date.now() / 1000)
    this.last =
      now > this.last.t ? new Timestamp({ t: now, i: 1 }) : new Timestamp({ t: this.last.t, i: this.last.i + 1 })
    return this.last
  }

  /** Set while a statement of a multi-document transaction runs: its changes wait for the commit. */
  transaction: Transaction | null = null

  append(entry: NewEntry): void {
    if (this.transaction !== null) {
      this.transaction.entries.push(entry)
      return
    }
    this.push({ ...entry, seq: ++this.head, ts: this.tick(), wall: new Date() })
    this.wake()
  }

  /** Undoes a write if the transaction it belongs to aborts (no-op outside a transaction). */
  onAbort(undo: () => void): void {
    this.transaction?.undo.push(undo)
  }

  /**
   * A committed transaction's changes: one cluster time for all of them, each with the
   * session's `lsid` and `txnNumber`, as the events of one `applyOps` oplog entry.
   */
  commit(transaction: Transaction): void {
    const ts = this.tick()
    const wall = new Date()
    for (const entry of transaction.entries) {
      this.push({ ...entry, txn: transaction.id, seq: ++this.head, ts, wall })
    }
    if (transaction.entries.length > 0) this.wake()
  }

  private push(full: LogEntry): void {
    this.entries.push(full)
    if (this.entries.length - this.start > this.limit) {
      const dropped = this.entries[this.start++]!
      this.floor = dropped.seq
      this.floorTs = dropped.ts
      if (this.start > 1024 && this.start * 2 > this.entries.length) {
        this.entries = this.entries.slice(this.start)
        this.start = 0
      }
    }
  }

  /** Forgets all history: every token handed out so far now answers 286. */
  truncate(): void {
    this.head += 1
    this.floor = this.head
    this.floorTs = this.tick()
    this.entries = []
    this.start = 0
    this.wake()
  }

  /** Entries with `seq > after`, oldest first. */
  *after(after: number): Generator<LogEntry> {
    let lo = this.start
    let hi = this.entries.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.entries[mid]!.seq <= after) lo = mid + 1
      else hi = mid
    }
    for (let i = lo; i < this.entries.length; i++) yield this.entries[i]!
  }

  /** The position just before the first entry at or after `ts` (for `startAtOperationTime`). */
  positionBefore(ts: Timestamp): number {
    if (compareTs(ts, this.floorTs) <= 0) throw historyLost()
    let pos = this.head
    for (let i = this.entries.length - 1; i >= this.start; i--) {
      const entry = this.entries[i]!
      if (compareTs(entry.ts, ts) < 0) break
      pos = entry.seq - 1
    }
    return pos
  }

  /** Throws 286 when the history after `pos` is no longer complete. */
  assertRetained(pos: number): void {
    if (pos < this.floor) throw historyLost()
  }

  /**
   * The resume token of a position. Tokens sort as the log does: by position, then event before
   * the high-water mark of the same position, then by fragment.
   */
  token(seq: number, kind: TokenKind = 'event', fragment = 0): { _data: string } {
    const frag = fragment.toString(16).padStart(2, '0')
    return { _data: `${seq.toString(16).padStart(16, '0')}${KIND_FLAG[kind]}${frag}${this.epoch}` }
  }

  /** The post-batch token: every change up to `seq` has been examined. */
  highWaterMark(seq: number): { _data: string } {
    return this.token(seq, 'highWaterMark')
  }

  parseToken(token: unknown): TokenPosition {
    const data = (token as { _data?: unknown } | null)?._data
    const match = typeof data === 'string' ? TOKEN.exec(data) : null
    if (match === null) throw new CommandError(260, `Invalid resume token: ${JSON.stringify(token)}`)
    // A token from another simulator instance: its history is not here.
    if (match[4] !== this.epoch) throw historyLost()
    const seq = Number.parseInt(match[1]!, 16)
    if (seq > this.head) throw new CommandError(260, 'Resume token is from the future of this log')
    const kind = match[2] === '01' ? 'invalidate' : match[2] === '02' ? 'highWaterMark' : 'event'
    return { seq, kind, fragment: Number.parseInt(match[3]!, 16) }
  }

  /** The retained entry at `seq`, if any. */
  entryAt(seq: number): LogEntry | undefined {
    for (const entry of this.after(seq - 1)) return entry.seq === seq ? entry : undefined
    return undefined
  }

  /** Resolves on the next append or truncation, after `ms`, or when `signal` aborts. */
  waitForChange(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted || ms <= 0) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        this.waiters.delete(done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal.addEventListener('abort', done)
      this.waiters.add(done)
    })
  }

  /** Wakes every blocked `getMore` (new entries, truncation, killed cursors). */
  wake(): void {
    for (const waiter of [...this.waiters]) waiter()
  }
}

/** 286, labelled as a 4.4+ server labels it: the driver must not resume. */
export function historyLost(): CommandError {
  return new CommandError(
    286,
    'Resume of change stream was not possible, as the resume point may no longer be in the oplog.',
    ['NonResumableChangeStreamError'],
  )
}
