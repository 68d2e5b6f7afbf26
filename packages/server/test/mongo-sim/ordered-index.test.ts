import type { Document } from 'bson'
import { ObjectId } from 'bson'
import fc from 'fast-check'
import { find as mingoFind, Query } from 'mingo'
import { describe, expect, test } from 'vitest'
import { ChangeLog } from './changelog.js'
import { Collection } from './store.js'

/** Values of several types (numbers mostly), so ranges must stop where their type does. */
const value = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -5, max: 5 }) },
  fc.constantFrom('a', 'b', 'c', ''),
  fc.constantFrom(true, false, null),
  fc.constantFrom(new Date(0), new Date(1000)),
  fc.constantFrom(new ObjectId('000000000000000000000001'), new ObjectId('000000000000000000000002')),
)
const field = fc.oneof(
  { weight: 6, arbitrary: value },
  fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 3 }),
  fc.constant(undefined),
)
/** Bounds of one type each. */
const typed = [
  fc.integer({ min: -6, max: 6 }),
  fc.integer({ min: -6, max: 6 }),
  fc.integer({ min: -6, max: 6 }),
  fc.integer({ min: 0, max: 40 }),
  fc.constantFrom('', 'a', 'b', 'c'),
  fc.constantFrom(new Date(0), new Date(500), new Date(1000)),
  fc.constantFrom(new ObjectId('000000000000000000000001'), new ObjectId('000000000000000000000002')),
] as fc.Arbitrary<unknown>[]
const scalar = fc.oneof(...typed)
const range = fc.oneof(
  ...typed.map((bound) =>
    fc
      .record({ $gt: bound, $gte: bound, $lt: bound, $lte: bound }, { requiredKeys: [], noNullPrototype: true })
      .filter((r) => Object.keys(r).length > 0),
  ),
)
const condition = fc.oneof(
  scalar,
  fc.record({ $in: fc.array(scalar, { minLength: 1, maxLength: 3 }) }, { noNullPrototype: true }),
  range,
)
const filter = fc.oneof(
  { weight: 3, arbitrary: fc.record({ a: condition }, { noNullPrototype: true }) },
  fc.record({ b: condition }, { noNullPrototype: true }),
  { weight: 2, arbitrary: fc.record({ _id: condition }, { noNullPrototype: true }) },
  fc.record({ a: condition, b: condition, _id: condition }, { requiredKeys: [], noNullPrototype: true }),
  fc.record(
    { a: condition, $or: fc.constant([{ b: { $exists: false } }, { b: { $gte: 0 } }]) },
    { noNullPrototype: true },
  ),
  // A rooted `$or`: the union of its clauses' scans when an index bounds every clause.
  fc.record(
    {
      b: condition,
      $or: fc.array(
        fc.oneof(
          fc.record({ a: condition }, { noNullPrototype: true }),
          fc.record({ _id: condition }, { noNullPrototype: true }),
          fc.record({ b: condition }, { noNullPrototype: true }),
        ),
        { minLength: 1, maxLength: 3 },
      ),
    },
    { requiredKeys: ['$or'], noNullPrototype: true },
  ),
)
const sort = fc.constantFrom<Document>(
  {},
  { _id: 1 },
  { _id: -1 },
  { a: 1 },
  { a: 1, _id: 1 },
  { b: -1 },
  { a: -1, b: 1 },
)
const limit = fc.constantFrom(0, 1, 3)
/** Any filter with any sort, or a range with a sort an index scan can give. */
const query = fc.oneof(
  fc.tuple(filter, sort, limit),
  fc.tuple(
    fc.record({ _id: range }, { noNullPrototype: true }),
    fc.constantFrom<Document>({ _id: 1 }, { _id: -1 }),
    limit,
  ),
  fc.tuple(
    fc.record({ a: range }, { noNullPrototype: true }),
    fc.constantFrom<Document>({ a: 1 }, { a: -1 }, { a: 1, _id: 1 }, { a: -1, _id: -1 }),
    limit,
  ),
  fc.tuple(
    fc.record({ a: scalar, _id: range }, { noNullPrototype: true }),
    fc.constantFrom<Document>({ _id: 1 }, { _id: -1 }, { a: 1, _id: 1 }),
    limit,
  ),
)
const INDEXES: Document[] = [
  { key: { a: 1 }, name: 'a' },
  { key: { a: 1, _id: 1 }, name: 'a_id' },
  { key: { a: -1, b: 1 }, name: 'a_b' },
  { key: { b: 1, _id: -1 }, name: 'b_id', sparse: true },
]
type Op = { insert: { a?: unknown; b?: unknown } } | { replace: number; b: unknown } | { remove: number }
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ insert: fc.record({ a: field, b: field }, { requiredKeys: [], noNullPrototype: true }) }),
  },
  fc.record({ replace: fc.nat(), b: field }),
  fc.record({ remove: fc.nat() }),
)

/** What a collection scan finds: the matches in natural order, stably sorted, then limited. */
function scanned(collection: Collection, query: Document, order: Document, limit: number): unknown[] {
  const q = new Query(query)
  const cursor = mingoFind(
    collection.all().filter((doc) => q.test(doc)),
    {},
  )
  if (Object.keys(order).length > 0) cursor.sort(order)
  if (limit > 0) cursor.limit(limit)
  return (cursor.all() as Document[]).map((doc) => doc._id)
}

function selected(collection: Collection, query: Document, order: Document, limit: number): unknown[] {
  const found = collection.select(query, order, limit)
  const cursor = mingoFind(found.docs, {})
  if (Object.keys(order).length > 0 && !found.sorted) cursor.sort(order)
  if (limit > 0) cursor.limit(limit)
  return (cursor.all() as Document[]).map((doc) => doc._id)
}

describe('the simulator’s ordered indexes', () => {
  test('a query through any index finds what a collection scan finds, in the same order (500 runs)', () => {
    // Queries answered through an index that found something, and those also in index order.
    const covered = { indexed: 0, ordered: 0 }
    fc.assert(
      fc.property(
        fc.subarray(INDEXES),
        fc.nat({ max: 1 }),
        fc.array(op, { minLength: 10, maxLength: 60 }),
        fc.array(query, { minLength: 1, maxLength: 8 }),
        (indexes, early, ops, queries) => {
          const collection = new Collection('db', 'c', new ChangeLog(10_000))
          // Some indexes exist before the documents, some are built over them.
          for (const spec of indexes.slice(0, early)) collection.createIndex(spec)
          let id = 0
          for (const o of ops) {
            const docs = collection.all()
            if ('insert' in o) collection.insert({ _id: id++ % 2 === 0 ? id : `s${id}`, ...o.insert })
            else if (docs.length === 0) continue
            else if ('replace' in o) {
              const before = docs[o.replace % docs.length] as Document
              collection.replace(before, { ...before, b: o.b })
            } else collection.remove(docs[o.remove % docs.length] as Document)
          }
          for (const spec of indexes.slice(early)) collection.createIndex(spec)
          for (const [query, order, limit] of queries) {
            const examined = collection.docsExamined
            const found = collection.select(query, order, limit)
            if (collection.docsExamined - examined < collection.size && found.docs.length > 0) {
              covered.indexed++
              if (found.sorted && Object.keys(order).length > 0) covered.ordered++
            }
            expect(selected(collection, query, order, limit)).toEqual(scanned(collection, query, order, limit))
          }
        },
      ),
      { numRuns: 500 },
    )
    expect(covered.indexed).toBeGreaterThan(80)
    expect(covered.ordered).toBeGreaterThan(20)
  })

  test('an array of one element makes an index multikey: a sort on its field is not taken from the index', () => {
    const collection = new Collection('db', 'c', new ChangeLog(100))
    collection.createIndex({ key: { a: 1, _id: 1 }, name: 'a_id' })
    collection.insert({ _id: 1, a: -5 })
    collection.insert({ _id: 's2', a: -5 })
    collection.insert({ _id: 3, a: [-5] })
    for (const limit of [0, 2]) {
      expect(selected(collection, { a: { $lt: 0 } }, { a: 1, _id: 1 }, limit)).toEqual(
        scanned(collection, { a: { $lt: 0 } }, { a: 1, _id: 1 }, limit),
      )
    }
  })

  test('a bounded query examines the documents in its bounds, not every document', () => {
    const collection = new Collection('db', 'log', new ChangeLog(100))
    collection.createIndex({ key: { topic: 1, _id: 1 }, name: 'topic_seq' })
    for (let seq = 1; seq <= 30_000; seq++) collection.insert({ _id: seq, topic: `user:${seq % 3_000}` })
    const query = { topic: { $in: ['user:7'] }, _id: { $gt: 100, $lte: 20_000 }, $or: [{ to: { $exists: false } }] }
    const before = collection.docsExamined
    const found = collection.select(query, { _id: 1 }, 5)
    expect(found.sorted).toBe(true)
    expect(found.docs.map((doc) => doc._id)).toEqual([3_007, 6_007, 9_007, 12_007, 15_007])
    expect(collection.docsExamined - before).toBe(5)
    // The tail of the `_id` index, newest first.
    const newest = collection.select({ _id: { $gt: 0 } }, { _id: -1 }, 1)
    expect(newest.docs.map((doc) => doc._id)).toEqual([30_000])
    expect(collection.docsExamined - before).toBe(6)
  })
})
