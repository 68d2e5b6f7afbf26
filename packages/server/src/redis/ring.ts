/**
 * The entries a node keeps in memory, by sequence number, for resume without a round trip.
 * @module
 */
import type { LogEntry } from '../index.js'

/**
 * A fixed-size ring of entries with increasing sequence numbers. Every entry with a
 * sequence in `(base, last]` that exists is held, so a reader positioned anywhere in
 * `[base, last]` can be answered exactly. Sequences may skip numbers.
 */
export class Ring {
  /** Entries after this sequence are all held. */
  base = 0
  /** Sequence of the newest entry (`base` when empty). */
  last = 0
  private readonly seqs: number[]
  private readonly items: (LogEntry | undefined)[]
  private start = 0
  private size = 0

  constructor(readonly capacity: number) {
    this.seqs = new Array(capacity).fill(0)
    this.items = new Array(capacity)
  }

  /** Forgets everything; the ring holds what comes after `base`. */
  restart(base: number): void {
    this.items.fill(undefined)
    this.start = 0
    this.size = 0
    this.base = base
    this.last = base
  }

  /** Adds the entry with sequence `seq` (greater than `last`), evicting the oldest when full. */
  push(seq: number, entry: LogEntry): void {
    if (this.size === this.capacity) {
      this.base = this.seqs[this.start] as number
      this.items[this.start] = undefined
      this.start = (this.start + 1) % this.capacity
      this.size--
    }
    const slot = (this.start + this.size) % this.capacity
    this.seqs[slot] = seq
    this.items[slot] = entry
    this.size++
    this.last = seq
  }

  /** The entry with sequence `seq`, if held. */
  get(seq: number): LogEntry | undefined {
    const i = this.indexAfter(seq - 1)
    return i < this.size && this.seqAt(i) === seq ? this.itemAt(i) : undefined
  }

  /** Up to `limit` entries after `seq`, which must lie in `[base, last]`. */
  after(seq: number, limit: number): { entries: LogEntry[]; more: boolean } {
    const from = this.indexAfter(seq)
    const to = Math.min(this.size, from + limit)
    const entries: LogEntry[] = []
    for (let i = from; i < to; i++) entries.push(this.itemAt(i))
    return { entries, more: to < this.size }
  }

  /**
   * Like {@link Ring.after}, keeping only entries `keep` accepts, looking at `budget` entries
   * at most; `last` is the sequence of the last entry looked at (`seq` when none).
   */
  afterMatching(
    seq: number,
    limit: number,
    budget: number,
    keep: (entry: LogEntry) => boolean,
  ): { entries: LogEntry[]; more: boolean; last: number } {
    const from = this.indexAfter(seq)
    const to = Math.min(this.size, from + budget)
    const entries: LogEntry[] = []
    let last = seq
    let i = from
    while (i < to && entries.length < limit) {
      const entry = this.itemAt(i)
      last = this.seqAt(i)
      i++
      if (keep(entry)) entries.push(entry)
    }
    return { entries, more: i < this.size, last }
  }

  private seqAt(i: number): number {
    return this.seqs[(this.start + i) % this.capacity] as number
  }

  private itemAt(i: number): LogEntry {
    return this.items[(this.start + i) % this.capacity] as LogEntry
  }

  /** Logical index of the first held entry with a sequence above `seq`. */
  private indexAfter(seq: number): number {
    let lo = 0
    let hi = this.size
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.seqAt(mid) <= seq) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

/** Lets readers wait, with a deadline, until a condition on the ring holds. */
export class Progress {
  private readonly waiting = new Set<() => void>()

  /** Re-checks every waiting condition; call after the ring moved. */
  wake(): void {
    for (const check of [...this.waiting]) check()
  }

  /** Resolves once `done()` holds or `ms` passed, whichever is first. */
  until(done: () => boolean, ms: number): Promise<void> {
    if (done()) return Promise.resolve()
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer)
        this.waiting.delete(check)
        resolve()
      }
      const check = () => {
        if (done()) finish()
      }
      const timer = setTimeout(finish, ms)
      this.waiting.add(check)
    })
  }
}
