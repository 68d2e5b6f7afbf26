import { type Document, Long, type Timestamp } from 'bson'
import type { Aggregator } from 'mingo'
import type { Handler } from './context.js'
import { CommandError } from './errors.js'

/** A finished query whose remaining documents are handed out by `getMore`. */
export interface PlainCursor {
  readonly kind: 'plain'
  readonly id: bigint
  readonly ns: string
  readonly docs: Document[]
}

/** Which changes a change stream sees. */
export type StreamScope =
  | { readonly type: 'collection'; readonly db: string; readonly coll: string }
  | { readonly type: 'database'; readonly db: string }
  | { readonly type: 'cluster' }

/** An open change stream: a position in the change log plus the stream's options. */
export interface ChangeCursor {
  readonly kind: 'change'
  readonly id: bigint
  readonly ns: string
  readonly scope: StreamScope
  /** Every change with a higher seq is still to be examined. */
  pos: number
  /** `startAtOperationTime`: changes before it are skipped. */
  readonly startTs: Timestamp | undefined
  readonly fullDocument: string
  readonly fullDocumentBeforeChange: string
  /** Stages after `$changeStream` (but the split stage), or `null` when there are none. */
  readonly pipeline: Aggregator | null
  /** The pipeline ends with `$changeStreamSplitLargeEvent`: events over 16 MB come as fragments. */
  readonly split: boolean
  /** Resumed from a fragment: leading fragments of the next event already seen. */
  skipFragments: number
  /** Fragments of the last event examined that did not fit in the last batch. */
  pending: Document[]
  /** `showExpandedEvents`: DDL events, `collectionUUID`, `disambiguatedPaths`. */
  readonly showExpandedEvents: boolean
}

export type Cursor = PlainCursor | ChangeCursor

/** Open cursors by id. Ids stay below 2^53 so a promoted number still identifies them. */
export class Cursors {
  private nextId = BigInt(1 + Math.floor(Math.random() * 2 ** 40))
  private readonly open = new Map<bigint, Cursor>()
  /** When each cursor was last used; a cursor in a running `getMore` is busy. */
  private readonly lastUsed = new Map<bigint, number>()
  private readonly busy = new Map<bigint, number>()

  newId(): bigint {
    return this.nextId++
  }

  get size(): number {
    return this.open.size
  }

  add(cursor: Cursor): void {
    this.open.set(cursor.id, cursor)
    this.lastUsed.set(cursor.id, Date.now())
  }

  /** Runs `work` with the cursor marked busy, so the idle timeout cannot kill it meanwhile. */
  async using<T>(id: bigint, work: () => T | Promise<T>): Promise<T> {
    this.busy.set(id, (this.busy.get(id) ?? 0) + 1)
    try {
      return await work()
    } finally {
      const left = (this.busy.get(id) ?? 1) - 1
      if (left > 0) this.busy.set(id, left)
      else this.busy.delete(id)
      if (this.open.has(id)) this.lastUsed.set(id, Date.now())
    }
  }

  /** Kills cursors idle for longer than `timeoutMs` (mongod's cursorTimeoutMillis); returns how many. */
  sweep(timeoutMs: number, now = Date.now()): number {
    let killed = 0
    for (const [id, at] of this.lastUsed) {
      if (this.busy.has(id) || now - at < timeoutMs) continue
      this.kill(id)
      killed++
    }
    return killed
  }

  get(id: bigint): Cursor | undefined {
    return this.open.get(id)
  }

  kill(id: bigint): boolean {
    this.lastUsed.delete(id)
    return this.open.delete(id)
  }

  clear(): void {
    this.open.clear()
    this.lastUsed.clear()
  }
}

/** A cursor id as the client sent it (number when promoted, Long or bigint otherwise). */
export function cursorIdOf(value: unknown): bigint {
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value)
  if (typeof value === 'bigint') return value
  if (value instanceof Long) return value.toBigInt()
  throw new CommandError(14, `cursor id must be a long, got ${typeof value}`, [], {}, 'TypeMismatch')
}

/** The `cursor` reply field; the id is always an Int64, as the driver requires. */
export function cursorReply(
  id: bigint,
  ns: string,
  batchField: 'firstBatch' | 'nextBatch',
  batch: Document[],
  extra: Document = {},
): Document {
  return { cursor: { [batchField]: batch, ...extra, id: Long.fromBigInt(id), ns }, ok: 1 }
}

/** Hands out the first `batchSize` documents and keeps a cursor for the rest. */
export function openPlainCursor(
  cursors: Cursors,
  ns: string,
  docs: Document[],
  batchSize: number | undefined,
  single = false,
): Document {
  const size = batchSize === undefined ? 101 : batchSize
  const first = docs.slice(0, size)
  const rest = docs.slice(first.length)
  if (rest.length === 0 || single) return cursorReply(0n, ns, 'firstBatch', first)
  const id = cursors.newId()
  cursors.add({ kind: 'plain', id, ns, docs: rest })
  return cursorReply(id, ns, 'firstBatch', first)
}

/** `getMore` for a plain cursor. */
export function plainGetMore(cursors: Cursors, cursor: PlainCursor, batchSize: number | undefined): Document {
  const size = batchSize && batchSize > 0 ? batchSize : cursor.docs.length
  const batch = cursor.docs.splice(0, size)
  const done = cursor.docs.length === 0
  if (done) cursors.kill(cursor.id)
  return cursorReply(done ? 0n : cursor.id, cursor.ns, 'nextBatch', batch)
}

export const killCursors: Handler = (ctx, { body }) => {
  const killed: Long[] = []
  const notFound: Long[] = []
  for (const raw of (body.cursors as unknown[]) ?? []) {
    const id = cursorIdOf(raw)
    ;(ctx.cursors.kill(id) ? killed : notFound).push(Long.fromBigInt(id))
  }
  // Wake blocked getMores so one on a killed cursor ends now.
  ctx.log.wake()
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 }
}
