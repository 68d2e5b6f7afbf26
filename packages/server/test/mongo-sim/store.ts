import { type Document, ObjectId, UUID } from 'bson'
import { Query } from 'mingo'
import type { ChangeLog } from './changelog.js'
import { CommandError } from './errors.js'
import { type IndexPlan, OrderedIndex } from './ordered-index.js'
import type { UpdateDelta } from './update-description.js'
import { getPath, keyOf } from './values.js'

/** An index as `listIndexes` reports it. */
export interface IndexSpec {
  v: number
  key: Record<string, number | string>
  name: string
  unique?: boolean
  sparse?: boolean
  partialFilterExpression?: Document
  expireAfterSeconds?: number
}

const ID_INDEX: IndexSpec = { v: 2, key: { _id: 1 }, name: '_id_' }
const INDEX_OPTIONS = ['unique', 'sparse', 'partialFilterExpression', 'expireAfterSeconds'] as const

/** What {@link Collection.select} found, and whether it is already in the order asked for. */
export interface Selection {
  readonly docs: Document[]
  readonly sorted: boolean
}

/**
 * One collection: documents in natural (insertion) order keyed by `_id`, unique indexes enforced
 * with code 11000, and every write appended to the change log as a real server's oplog would.
 * Stored documents are never mutated: writes replace them, so cursors and log entries can share them.
 * Queries read an ordered index where one bounds them (see `ordered-index.ts`), else every document.
 */
export class Collection {
  readonly uuid = new UUID()
  /** The namespace; `renameCollection` changes it. */
  db: string
  name: string
  private readonly byId = new Map<string, Document>()
  private readonly indexList: IndexSpec[] = [ID_INDEX]
  private readonly uniqueKeys = new Map<string, Map<string, Document>>([['_id_', this.byId]])
  /** Indexes queries can read, by name. */
  private readonly ordered = new Map<string, OrderedIndex>([
    ['_id_', new OrderedIndex('_id_', { _id: 1 }, false, true)],
  ])
  /** Each document's place in natural order (kept when it is replaced), by `_id` key. */
  private readonly ordinals = new Map<string, number>()
  private nextOrdinal = 0
  /** Documents a query tested against its filter, as `explain` counts `totalDocsExamined`. */
  docsExamined = 0

  constructor(
    db: string,
    name: string,
    private readonly log: ChangeLog,
    /** Collection options (`create`, changed by `collMod`). */
    public options: Document = {},
  ) {
    this.db = db
    this.name = name
  }

  /** `changeStreamPreAndPostImages: { enabled: true }`: updates and deletes keep their images. */
  get images(): boolean {
    return (this.options.changeStreamPreAndPostImages as Document | undefined)?.enabled === true
  }

  get ns(): string {
    return `${this.db}.${this.name}`
  }

  get size(): number {
    return this.byId.size
  }

  get indexes(): readonly IndexSpec[] {
    return this.indexList
  }

  /** Documents in natural order. */
  all(): Document[] {
    return [...this.byId.values()]
  }

  byIdValue(id: unknown): Document | undefined {
    return this.byId.get(keyOf(id))
  }

  /** Documents matching `filter`, in natural order. */
  match(filter: Document = {}): Document[] {
    return this.select(filter).docs
  }

  /**
   * Documents matching `filter`: through the `_id` map for `{ _id: value }`, else through the
   * index that bounds most key fields, else every document. In natural order, or in `sort`
   * order when an index scan gives that order (then at most `limit` of them, 0: all).
   */
  select(filter: Document = {}, sort: Document = {}, limit = 0): Selection {
    const keys = Object.keys(filter)
    if (keys.length === 0) return { docs: this.all(), sorted: false }
    const id = filter._id
    if (id !== undefined && (id === null || typeof id !== 'object' || !isPlainObject(id))) {
      const query = new Query(filter)
      const doc = this.byIdValue(id)
      if (doc !== undefined) this.docsExamined++
      return { docs: doc && query.test(doc) ? [doc] : [], sorted: true }
    }
    const plan = this.plan(filter)
    if (plan === undefined) {
      // A rooted `$or` whose every clause an index bounds: the union of the clauses' scans.
      const clauses = Array.isArray(filter.$or) ? (filter.$or as Document[]).map((c) => this.plan(c)) : []
      if (clauses.length === 0 || clauses.some((c) => c === undefined)) {
        const query = new Query(filter)
        this.docsExamined += this.byId.size
        return { docs: this.all().filter((doc) => query.test(doc)), sorted: false }
      }
      // A document matches when it matches a clause whose scan found it (and the rest of the
      // filter): were it to match another clause, that clause's scan would find it too. So
      // each clause is compiled with the rest, and the whole filter never is.
      const { $or, ...rest } = filter
      const found = new Map<Document, number>()
      for (const [i, clause] of (clauses as IndexPlan[]).entries()) {
        const branch = new Query({ $and: [rest, ($or as Document[])[i] as Document] })
        for (const entry of clause.index.scan(clause)) {
          if (found.has(entry.doc)) continue
          this.docsExamined++
          if (branch.test(entry.doc)) found.set(entry.doc, entry.ord)
        }
      }
      const matched = [...found].sort((a, b) => a[1] - b[1])
      return { docs: matched.map(([doc]) => doc), sorted: false }
    }
    const query = new Query(filter)
    const order = Object.keys(sort).length === 0 ? undefined : plan.index.order(plan, sort)
    const found: { doc: Document; ord: number }[] = []
    for (const entry of plan.index.scan(plan, order === 'backward')) {
      this.docsExamined++
      if (!query.test(entry.doc)) continue
      found.push(entry)
      if (order !== undefined && found.length === limit) break
    }
    if (order === undefined) found.sort((a, b) => a.ord - b.ord)
    return { docs: found.map((entry) => entry.doc), sorted: order !== undefined }
  }

  /** The index scan that bounds most key fields of `filter`, if any does. */
  private plan(filter: Document): IndexPlan | undefined {
    if (filter === null || typeof filter !== 'object') return undefined
    let plan: IndexPlan | undefined
    for (const index of this.ordered.values()) {
      const candidate = index.plan(filter)
      if (candidate !== undefined && candidate.fields > (plan?.fields ?? 0)) plan = candidate
    }
    return plan
  }

  insert(input: Document): Document {
    const doc = idFirst(input._id === undefined ? { _id: new ObjectId(), ...input } : input)
    this.claimKeys(doc, undefined)
    this.place(doc)
    this.log.onAbort(() => {
      this.releaseKeys(doc)
      this.byId.delete(keyOf(doc._id))
      this.unplace(doc, true)
    })
    this.log.append({
      kind: 'insert',
      ns: { db: this.db, coll: this.name },
      uuid: this.uuid,
      documentKey: { _id: doc._id },
      post: doc,
    })
    return doc
  }

  /** Swaps `before` for `after` (same `_id`), recorded as an `update` or a `replace` change. */
  replace(before: Document, next: Document, delta?: UpdateDelta): Document {
    const after = idFirst(next)
    this.releaseKeys(before)
    try {
      this.claimKeys(after, before)
    } catch (error) {
      this.claimKeys(before, before)
      throw error
    }
    this.unplace(before, false)
    this.place(after)
    this.log.onAbort(() => {
      this.releaseKeys(after)
      this.claimKeys(before, after)
      this.unplace(after, false)
      this.place(before)
    })
    this.log.append({
      kind: delta ? 'update' : 'replace',
      ns: { db: this.db, coll: this.name },
      uuid: this.uuid,
      documentKey: { _id: after._id },
      post: after,
      pre: before,
      images: this.images,
      ...(delta ? { updateDescription: delta.description, disambiguatedPaths: delta.disambiguatedPaths } : {}),
    })
    return after
  }

  remove(doc: Document): void {
    this.releaseKeys(doc)
    this.byId.delete(keyOf(doc._id))
    this.unplace(doc, true)
    this.log.onAbort(() => {
      this.claimKeys(doc, undefined)
      this.place(doc)
    })
    this.log.append({
      kind: 'delete',
      ns: { db: this.db, coll: this.name },
      uuid: this.uuid,
      documentKey: { _id: doc._id },
      pre: doc,
      images: this.images,
    })
  }

  /** Adds an index; `false` when an identical one exists. Throws 85/86 on a conflicting one, 11000 on duplicates. */
  createIndex(input: Document): boolean {
    const spec: IndexSpec = { v: 2, key: input.key as IndexSpec['key'], name: String(input.name) }
    for (const option of INDEX_OPTIONS) if (input[option] !== undefined) spec[option] = input[option]
    const sameName = this.indexList.find((i) => i.name === spec.name)
    const sameKey = this.indexList.find((i) => keyOf(i.key) === keyOf(spec.key))
    if (sameName && keyOf(sameName.key) !== keyOf(spec.key)) {
      throw new CommandError(86, `An existing index has the same name as the requested index: ${spec.name}`)
    }
    const existing = sameName ?? sameKey
    if (existing) {
      if (INDEX_OPTIONS.every((o) => keyOf(existing[o]) === keyOf(spec[o])) && existing.name === spec.name) return false
      throw new CommandError(85, `An equivalent index already exists with a different name or options: ${spec.name}`)
    }
    if (spec.unique) {
      const keys = new Map<string, Document>()
      for (const doc of this.byId.values()) {
        const key = indexKey(spec, doc)
        if (key === undefined) continue
        if (keys.has(key)) throw duplicateKey(this.ns, spec, doc)
        keys.set(key, doc)
      }
      this.uniqueKeys.set(spec.name, keys)
    }
    this.indexList.push(spec)
    if (OrderedIndex.supports(spec)) {
      const index = new OrderedIndex(spec.name, spec.key, spec.sparse === true, spec.unique === true)
      for (const doc of this.byId.values()) index.add(doc, this.ordinals.get(keyOf(doc._id)) as number)
      this.ordered.set(spec.name, index)
    }
    return true
  }

  dropIndex(name: string): boolean {
    if (name === '_id_') throw new CommandError(72, 'cannot drop _id index')
    const at = this.indexList.findIndex((i) => i.name === name)
    if (at < 0) return false
    this.indexList.splice(at, 1)
    this.uniqueKeys.delete(name)
    this.ordered.delete(name)
    return true
  }

  /** Adds a stored document to the ordered indexes, at its place in natural order (a new one last). */
  private place(doc: Document): void {
    const id = keyOf(doc._id)
    let ord = this.ordinals.get(id)
    if (ord === undefined) {
      ord = this.nextOrdinal++
      this.ordinals.set(id, ord)
    }
    for (const index of this.ordered.values()) index.add(doc, ord)
  }

  /** Takes a stored document out of the ordered indexes; `forget`: it leaves the collection. */
  private unplace(doc: Document, forget: boolean): void {
    const id = keyOf(doc._id)
    const ord = this.ordinals.get(id)
    if (ord === undefined) return
    for (const index of this.ordered.values()) index.delete(doc, ord)
    if (forget) this.ordinals.delete(id)
  }

  /** Deletes documents past their TTL index expiry (the TTL monitor of a real server). */
  expire(now: number): void {
    for (const index of this.indexList) {
      if (index.expireAfterSeconds === undefined) continue
      const field = Object.keys(index.key)[0]!
      for (const doc of this.all()) {
        const value = getPath(doc, field)
        const dates = (Array.isArray(value) ? value : [value]).filter((v): v is Date => v instanceof Date)
        if (dates.length === 0) continue
        const earliest = Math.min(...dates.map((d) => d.getTime()))
        if (earliest + index.expireAfterSeconds * 1000 <= now) this.remove(doc)
      }
    }
  }

  get hasTtl(): boolean {
    return this.indexList.some((i) => i.expireAfterSeconds !== undefined)
  }

  /** Checks every unique index first, then records the keys, so a conflict changes nothing. */
  private claimKeys(doc: Document, replacing: Document | undefined): void {
    const claims: [Map<string, Document>, string][] = []
    for (const index of this.indexList) {
      const keys = this.uniqueKeys.get(index.name)
      if (!keys) continue
      const key = indexKey(index, doc)
      if (key === undefined) continue
      const holder = keys.get(key)
      if (holder && holder !== replacing) throw duplicateKey(this.ns, index, doc)
      claims.push([keys, key])
    }
    for (const [keys, key] of claims) keys.set(key, doc)
  }

  private releaseKeys(doc: Document): void {
    for (const index of this.indexList) {
      const keys = this.uniqueKeys.get(index.name)
      if (!keys || index.name === '_id_') continue
      const key = indexKey(index, doc)
      if (key !== undefined && keys.get(key) === doc) keys.delete(key)
    }
  }
}

/** mongod stores `_id` as the first field whatever order the client sent. */
function idFirst(doc: Document): Document {
  return Object.keys(doc)[0] === '_id' ? doc : { _id: doc._id, ...doc }
}

function isPlainObject(value: object): boolean {
  return Object.getPrototypeOf(value) === Object.prototype
}

/** The key a document has in an index, or `undefined` when the index does not cover it. */
function indexKey(index: IndexSpec, doc: Document): string | undefined {
  const fields = Object.keys(index.key)
  const values = fields.map((f) => getPath(doc, f))
  if (index.sparse && values.every((v) => v === undefined)) return undefined
  if (index.partialFilterExpression && !new Query(index.partialFilterExpression).test(doc)) return undefined
  return values.map(keyOf).join('\u0000')
}

function duplicateKey(ns: string, index: IndexSpec, doc: Document): CommandError {
  const keyPattern: Document = {}
  const keyValue: Document = {}
  for (const field of Object.keys(index.key)) {
    keyPattern[field] = index.key[field]
    keyValue[field] = getPath(doc, field) ?? null
  }
  const shown = Object.entries(keyValue)
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    .join(', ')
  return new CommandError(
    11000,
    `E11000 duplicate key error collection: ${ns} index: ${index.name} dup key: { ${shown} }`,
    [],
    { keyPattern, keyValue },
  )
}

/** All databases and collections; data survives dropped connections. */
export class Store {
  private readonly dbs = new Map<string, Map<string, Collection>>()

  constructor(private readonly log: ChangeLog) {}

  get(db: string, name: string): Collection | undefined {
    return this.dbs.get(db)?.get(name)
  }

  /** The collection, created implicitly (as a first write does) when missing. */
  ensure(db: string, name: string, options: Document = {}): { collection: Collection; created: boolean } {
    const existing = this.get(db, name)
    if (existing) return { collection: existing, created: false }
    let colls = this.dbs.get(db)
    if (!colls) {
      colls = new Map()
      this.dbs.set(db, colls)
    }
    const collection = new Collection(db, name, this.log, options)
    colls.set(name, collection)
    this.log.append({
      kind: 'create',
      ns: { db, coll: name },
      uuid: collection.uuid,
      operationDescription: { idIndex: { v: 2, key: { _id: 1 }, name: '_id_' }, ...options },
    })
    return { collection, created: true }
  }

  collections(db: string): Collection[] {
    return [...(this.dbs.get(db)?.values() ?? [])]
  }

  databases(): string[] {
    return [...this.dbs.keys()].filter((db) => (this.dbs.get(db)?.size ?? 0) > 0)
  }

  /** Drops a collection, logging `drop` then the `invalidate` that closes its streams. */
  drop(db: string, name: string): Collection | undefined {
    const collection = this.get(db, name)
    if (!collection) return undefined
    this.dbs.get(db)?.delete(name)
    this.log.append({ kind: 'drop', ns: { db, coll: name }, uuid: collection.uuid })
    this.log.append({ kind: 'invalidate', ns: { db, coll: name }, closes: 'collection' })
    return collection
  }

  /**
   * `renameCollection`: logs `rename` (with `to`), then the `invalidate` that closes the
   * source's collection streams. A target dropped first (`dropTarget`) logs its own drop.
   */
  rename(from: { db: string; coll: string }, to: { db: string; coll: string }, dropTarget: boolean): void {
    const collection = this.get(from.db, from.coll)
    if (!collection) throw new CommandError(26, `Source collection ${from.db}.${from.coll} does not exist`)
    const target = this.get(to.db, to.coll)
    if (target && !dropTarget) throw new CommandError(48, `target namespace exists`)
    if (target) this.drop(to.db, to.coll)
    this.dbs.get(from.db)?.delete(from.coll)
    let colls = this.dbs.get(to.db)
    if (!colls) {
      colls = new Map()
      this.dbs.set(to.db, colls)
    }
    collection.db = to.db
    collection.name = to.coll
    colls.set(to.coll, collection)
    const description: Document = { to: { db: to.db, coll: to.coll } }
    if (target) description.dropTarget = target.uuid
    this.log.append({
      kind: 'rename',
      ns: { db: from.db, coll: from.coll },
      uuid: collection.uuid,
      to: { db: to.db, coll: to.coll },
      operationDescription: description,
    })
    this.log.append({ kind: 'invalidate', ns: { db: from.db, coll: from.coll }, closes: 'collection' })
  }

  dropDatabase(db: string): void {
    for (const collection of this.collections(db)) this.drop(db, collection.name)
    this.dbs.delete(db)
    this.log.append({ kind: 'dropDatabase', ns: { db } })
    this.log.append({ kind: 'invalidate', ns: { db }, closes: 'database' })
  }

  /** Runs TTL expiry on every collection that has a TTL index. */
  expire(now = Date.now()): void {
    for (const colls of this.dbs.values()) for (const c of colls.values()) if (c.hasTtl) c.expire(now)
  }
}
