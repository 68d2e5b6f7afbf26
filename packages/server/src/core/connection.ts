/**
 * One subscriber's stream: what it wants and what is queued for it.
 * @module
 */
import { type LogEntry, type LogFilter, matchesFilter } from './log.js'
import type { StreamSink } from './sink.js'
import type { Identity } from './types.js'
import { ControlEvent } from './wire.js'

/**
 * - `reserved`: counted against caps, not yet handed a sink;
 * - `replaying`: reading missed events from the log, live ones wait in `buffer`;
 * - `live`, then `closed`;
 * - `polling`: a long-poll request waiting for its first entry (collected in `buffer`).
 */
export type ConnState = 'reserved' | 'replaying' | 'live' | 'polling' | 'closed'

/** Fields are plain and public: the hub's fan-out loop reads them on the hot path. */
export class Connection {
  state: ConnState = 'reserved'
  sink: StreamSink | null = null
  /** Bytes waiting for the next flush; coalesced into one write per tick. */
  readonly queue: Uint8Array[] = []
  queued = 0
  dirty = false
  /** Live entries that arrived while replaying (bounded; see `overflow`). */
  buffer: LogEntry[] = []
  overflow = false
  /** What `authenticate` returned for this request. */
  identity: Identity = {}
  /** Asked for `rt.presence` events. */
  presence = false
  /** Counted by the presence tracker (open SSE streams only). */
  present = false
  /** Wakes a waiting long-poll request when an entry arrives. */
  wake: (() => void) | null = null

  /** What this subscriber may see, for filtered log reads. */
  readonly filter: LogFilter

  constructor(
    readonly topics: ReadonlySet<string>,
    readonly types: ReadonlySet<string> | null,
    readonly userId: string | undefined,
  ) {
    this.filter = { topics, userId }
  }

  /** Whether the `types` filter lets this type through. */
  wantsType(type: string): boolean {
    // A topic's rt.reset passes any filter: dropping it would be silent loss.
    return this.types === null || this.types.has(type) || type === ControlEvent.reset
  }

  /** Whether this subscriber may and wants to see the entry. */
  accepts(entry: LogEntry): boolean {
    return this.wantsType(entry.type) && matchesFilter(entry, this.filter)
  }
}
