/**
 * Ordered indexes, so a query reads the index entries in its bounds instead of every document:
 * equality or `$in` on a prefix of the key and a range on the next field, as a real server's
 * index scan (the rest of the filter is then tested on each document found).
 * @module
 */
import { type Document, ObjectId } from 'bson'
import { compare, typeOf } from 'mingo/util'
import { isOperatorObject, keyOf } from './values.js'

/** One index entry: the key's values (one element of an array field each), then natural order. */
export interface IndexEntry {
  readonly key: readonly unknown[]
  readonly ord: number
  readonly doc: Document
}

/** Entries per chunk: a sorted list of sorted chunks keeps inserts and deletes cheap. */
const CHUNK = 256
/** More combinations of `$in` values than this and the query scans the collection instead. */
const MAX_POINTS = 1_000

/** A value an index bound may be: the types whose order matches the query operators' own. */
function boundable(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isNaN(value)
  if (value instanceof Date) return !Number.isNaN(value.getTime())
  return typeof value === 'string' || typeof value === 'boolean' || value instanceof ObjectId
}

/** Index order of two values of one field: NaN first among numbers, as a server sorts it. */
function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : -1
    if (Number.isNaN(b)) return 1
    return a < b ? -1 : a > b ? 1 : 0
  }
  return compare(a, b)
}

interface Bound {
  readonly value: unknown
  readonly inclusive: boolean
}

/** Where one scan starts and stops: equal values for a key prefix, then a range on the next field. */
interface Interval {
  readonly prefix: readonly unknown[]
  readonly low?: Bound
  readonly high?: Bound
}

/** How a query would read an index: the intervals to scan, and how many key fields bound them. */
export interface IndexPlan {
  readonly index: OrderedIndex
  readonly intervals: readonly Interval[]
  /** Key fields bounded (equalities, then a range): the planner picks the index with most. */
  readonly fields: number
  /** The field with a range, after the equalities. */
  readonly rangeField: string | undefined
}

/** An index's entries in key order, with each document's natural position breaking ties. */
export class OrderedIndex {
  private chunks: IndexEntry[][] = []
  /** Some document has an array field: a scan may meet it twice, and sorts by it differ. */
  private multikey = false
  private readonly fieldNames: readonly string[]
  private readonly directions: readonly number[]

  constructor(
    readonly name: string,
    key: Record<string, number | string>,
    private readonly sparse = false,
    private readonly unique = false,
  ) {
    this.fieldNames = Object.keys(key)
    this.directions = this.fieldNames.map((f) => (key[f] === -1 ? -1 : 1))
  }

  /**
   * Whether an index with this spec can be kept here: plain ascending or descending keys on
   * top-level fields, no partial filter. Others (text, hashed, dotted paths) are not used.
   */
  static supports(spec: { key: Record<string, number | string>; partialFilterExpression?: Document }): boolean {
    if (spec.partialFilterExpression !== undefined) return false
    return Object.entries(spec.key).every(([field, dir]) => (dir === 1 || dir === -1) && !field.includes('.'))
  }

  get fields(): readonly string[] {
    return this.fieldNames
  }

  add(doc: Document, ord: number): void {
    // Any array makes the index multikey, as on a server (even one element: sorts then differ).
    if (this.fieldNames.some((f) => Array.isArray(doc[f]))) this.multikey = true
    for (const key of this.keysOf(doc)) this.insert({ key, ord, doc })
  }

  delete(doc: Document, ord: number): void {
    for (const key of this.keysOf(doc)) this.remove({ key, ord, doc })
  }

  /** The keys a document has here: one per element of an array field (a multikey index). */
  private keysOf(doc: Document): unknown[][] {
    const values = this.fieldNames.map((f) => doc[f])
    if (this.sparse && values.every((v) => v === undefined)) return []
    let keys: unknown[][] = [[]]
    for (const value of values) {
      const options = Array.isArray(value) ? unique(value.length === 0 ? [undefined] : value) : [value]
      keys = keys.flatMap((key) => options.map((v) => [...key, v ?? null]))
    }
    return keys
  }

  private compareEntries(a: IndexEntry, b: IndexEntry): number {
    for (let i = 0; i < this.directions.length; i++) {
      const c = compareValues(a.key[i], b.key[i]) * (this.directions[i] as number)
      if (c !== 0) return c
    }
    return a.ord - b.ord
  }

  /** The first position whose entry is not `before`, as [chunk, offset]. */
  private seek(before: (entry: IndexEntry) => boolean): [number, number] {
    let lo = 0
    let hi = this.chunks.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      const chunk = this.chunks[mid] as IndexEntry[]
      if (before(chunk[chunk.length - 1] as IndexEntry)) lo = mid + 1
      else hi = mid
    }
    if (lo === this.chunks.length) return [lo, 0]
    const chunk = this.chunks[lo] as IndexEntry[]
    let a = 0
    let b = chunk.length
    while (a < b) {
      const mid = (a + b) >> 1
      if (before(chunk[mid] as IndexEntry)) a = mid + 1
      else b = mid
    }
    return [lo, a]
  }

  private insert(entry: IndexEntry): void {
    if (this.chunks.length === 0) {
      this.chunks.push([entry])
      return
    }
    let [c, i] = this.seek((e) => this.compareEntries(e, entry) < 0)
    if (c === this.chunks.length) {
      c--
      i = (this.chunks[c] as IndexEntry[]).length
    }
    const chunk = this.chunks[c] as IndexEntry[]
    chunk.splice(i, 0, entry)
    if (chunk.length > CHUNK * 2) this.chunks.splice(c, 1, chunk.slice(0, CHUNK), chunk.slice(CHUNK))
  }

  private remove(entry: IndexEntry): void {
    const [c, i] = this.seek((e) => this.compareEntries(e, entry) < 0)
    const chunk = this.chunks[c]
    if (chunk === undefined || chunk[i]?.doc !== entry.doc) return
    chunk.splice(i, 1)
    if (chunk.length === 0) this.chunks.splice(c, 1)
  }

  /**
   * How a filter would read this index, or `undefined` when it bounds no key field: equality
   * or `$in` (of numbers, strings, booleans, dates, ObjectIds) on a prefix of the key, then
   * `$gt`/`$gte`/`$lt`/`$lte`/equality on the next field.
   */
  plan(filter: Document): IndexPlan | undefined {
    const points: unknown[][] = []
    let range: { low?: Bound; high?: Bound } | undefined
    for (const field of this.fieldNames) {
      const condition = Object.hasOwn(filter, field) ? filter[field] : undefined
      if (condition === undefined) break
      const values = equalities(condition)
      if (values !== undefined) {
        points.push(values)
        continue
      }
      range = rangeOf(condition)
      // Different elements of an array may meet the two bounds: a multikey index keeps one.
      if (this.multikey && range?.low !== undefined) range = { low: range.low }
      break
    }
    if (points.length === 0 && range === undefined) return undefined
    let prefixes: unknown[][] = [[]]
    for (const values of points) {
      prefixes = prefixes.flatMap((prefix) => values.map((v) => [...prefix, v]))
      if (prefixes.length > MAX_POINTS) return undefined
    }
    const intervals = prefixes.map((prefix) => ({ prefix, ...range }))
    const rangeField = range === undefined ? undefined : this.fieldNames[points.length]
    return { index: this, intervals, fields: points.length + (range === undefined ? 0 : 1), rangeField }
  }

  /**
   * Whether a scan of the plan comes out in the order of `sort`, as a stable sort of the
   * documents in natural order would give it: one interval, the sort naming exactly the key
   * fields after its equalities (all in the index's direction, or all against it), each of
   * them `_id` or the range field (so never missing), on an index without array entries.
   * Against the index's direction only where keys cannot tie (unique, or ending in `_id`).
   */
  order(plan: IndexPlan, sort: Document): 'forward' | 'backward' | undefined {
    if (this.multikey || plan.intervals.length !== 1) return undefined
    const rest = this.fieldNames.slice((plan.intervals[0] as Interval).prefix.length)
    const fields = Object.keys(sort).filter((field) => !this.fieldNames.includes(field) || rest.includes(field))
    if (fields.length !== rest.length || fields.length === 0) return undefined
    let way: number | undefined
    for (const [i, field] of fields.entries()) {
      if (field !== rest[i] || (field !== '_id' && field !== plan.rangeField)) return undefined
      const dir = sort[field] === 1 ? 1 : sort[field] === -1 ? -1 : 0
      const here = dir * (this.directions[this.fieldNames.indexOf(field)] as number)
      if (here === 0 || (way !== undefined && here !== way)) return undefined
      way = here
    }
    if (way === 1) return 'forward'
    return this.unique || this.fieldNames.at(-1) === '_id' ? 'backward' : undefined
  }

  /** The entries in a plan's intervals, each document once, in index order (interval by interval). */
  *scan(plan: IndexPlan, backward = false): Generator<IndexEntry> {
    const seen = this.multikey ? new Set<Document>() : undefined
    const intervals = [...plan.intervals].sort((a, b) => this.comparePrefixes(a.prefix, b.prefix))
    if (backward) intervals.reverse()
    for (const interval of intervals) {
      for (const entry of backward ? this.backward(interval) : this.forward(interval)) {
        if (seen !== undefined) {
          if (seen.has(entry.doc)) continue
          seen.add(entry.doc)
        }
        yield entry
      }
    }
  }

  /** Compares a key (or prefix) with a prefix, over the prefix's fields. */
  private comparePrefixes(key: readonly unknown[], prefix: readonly unknown[]): number {
    for (let i = 0; i < prefix.length; i++) {
      const c = compareValues(key[i], prefix[i]) * (this.directions[i] as number)
      if (c !== 0) return c
    }
    return 0
  }

  /**
   * An interval's start and end in index order: whether an entry lies before it (`before`) or
   * past it (`after`). A one-sided range ends where its type does: other types never pass
   * `$gt`/`$lt`, and the values of one type are together in the order.
   */
  private edges(interval: Interval): { before: (e: IndexEntry) => boolean; after: (e: IndexEntry) => boolean } {
    const { prefix, low, high } = interval
    const at = prefix.length
    const dir = (this.directions[at] ?? 1) as number
    const [start, end] = dir === 1 ? [low, high] : [high, low]
    const type = typeOf((low ?? high)?.value)
    /** Where a value of another type lies from the bound: <0 before the type's values, >0 after. */
    const otherType = (value: unknown, bound: Bound) =>
      typeOf(value) === type ? 0 : compareValues(value, bound.value) * dir
    const before = (e: IndexEntry): boolean => {
      const c = this.comparePrefixes(e.key, prefix)
      if (c !== 0) return c < 0
      const value = e.key[at]
      if (start === undefined) return end !== undefined && otherType(value, end) < 0
      const d = compareValues(value, start.value) * dir
      return d < 0 || (d === 0 && !start.inclusive)
    }
    const after = (e: IndexEntry): boolean => {
      const c = this.comparePrefixes(e.key, prefix)
      if (c !== 0) return c > 0
      const value = e.key[at]
      if (end === undefined) return start !== undefined && otherType(value, start) > 0
      const d = compareValues(value, end.value) * dir
      return d > 0 || (d === 0 && !end.inclusive)
    }
    return { before, after }
  }

  private *forward(interval: Interval): Generator<IndexEntry> {
    const { before, after } = this.edges(interval)
    let [c, i] = this.seek(before)
    for (; c < this.chunks.length; c++, i = 0) {
      const chunk = this.chunks[c] as IndexEntry[]
      for (; i < chunk.length; i++) {
        const entry = chunk[i] as IndexEntry
        if (after(entry)) return
        yield entry
      }
    }
  }

  private *backward(interval: Interval): Generator<IndexEntry> {
    const { before, after } = this.edges(interval)
    // From the first entry past the interval, step back.
    let [c, i] = this.seek((e) => !after(e))
    for (;;) {
      i--
      while (i < 0) {
        c--
        if (c < 0) return
        i = (this.chunks[c] as IndexEntry[]).length - 1
      }
      const entry = (this.chunks[c] as IndexEntry[])[i] as IndexEntry
      if (before(entry)) return
      yield entry
    }
  }
}

function unique(values: readonly unknown[]): unknown[] {
  const seen = new Map<string, unknown>()
  for (const value of values) seen.set(keyOf(value), value)
  return [...seen.values()]
}

/** The values a condition accepts by equality (`v`, `{ $eq: v }`, `{ $in: [...] }`), if that is all it is. */
function equalities(condition: unknown): unknown[] | undefined {
  if (boundable(condition)) return [condition]
  if (!isOperatorObject(condition)) return undefined
  const keys = Object.keys(condition)
  if (keys.length !== 1) return undefined
  if (keys[0] === '$eq' && boundable(condition.$eq)) return [condition.$eq]
  const list = condition.$in
  if (keys[0] === '$in' && Array.isArray(list) && list.length > 0 && list.every(boundable)) return unique(list)
  return undefined
}

/** The range a condition bounds a field to (`$gt`, `$gte`, `$lt`, `$lte` of one type), if any. */
function rangeOf(condition: unknown): { low?: Bound; high?: Bound } | undefined {
  if (!isOperatorObject(condition)) return undefined
  let low: Bound | undefined
  let high: Bound | undefined
  for (const [op, value] of Object.entries(condition)) {
    if (!boundable(value)) continue
    if (op === '$gt' || op === '$gte') low = { value, inclusive: op === '$gte' }
    else if (op === '$lt' || op === '$lte') high = { value, inclusive: op === '$lte' }
  }
  if (low === undefined && high === undefined) return undefined
  // Bounds of two types match nothing; leave that to the filter rather than guess.
  if (low !== undefined && high !== undefined && typeOf(low.value) !== typeOf(high.value)) return undefined
  return { ...(low ? { low } : {}), ...(high ? { high } : {}) }
}
