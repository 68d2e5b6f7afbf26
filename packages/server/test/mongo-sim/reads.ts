import type { Document } from 'bson'
import { Aggregator, find as mingoFind } from 'mingo'
import { changeGetMore, openChangeStream } from './changestream.js'
import type { Handler } from './context.js'
import { cursorIdOf, openPlainCursor, plainGetMore } from './cursors.js'
import { CommandError } from './errors.js'
import type { Collection } from './store.js'
import { clone, getPath, keyOf } from './values.js'

/** Applies a find-style projection (new objects). */
export function project(docs: Document[], projection: Document | undefined): Document[] {
  if (!projection || Object.keys(projection).length === 0) return docs
  return mingoFind(docs, {}, projection).all() as Document[]
}

/** Sorts stored documents, returning the stored objects themselves (writes compare by identity). */
export function sortDocs(collection: Collection, docs: Document[], sort: Document): Document[] {
  const sorted = new Aggregator([{ $sort: sort }]).run(docs) as Document[]
  return sorted.map((d) => collection.byIdValue(d._id) ?? d)
}

/** `find`: filter, sort, skip, limit, projection, batchSize; the rest through `getMore`. */
export const find: Handler = (ctx, { db, body }) => {
  const name = String(body.find)
  const ns = `${db}.${name}`
  const collection = ctx.store.get(db, name)
  const { $natural, ...sort } = (body.sort as Document | undefined) ?? {}
  const skip = typeof body.skip === 'number' && body.skip > 0 ? body.skip : 0
  const limit = typeof body.limit === 'number' ? Math.abs(body.limit) : 0
  const filter = (body.filter as Document | undefined) ?? {}
  // An index scan in the sort's order stops after `skip + limit` matches, as a server's does.
  const selected = collection?.select(filter, $natural === undefined ? sort : {}, limit > 0 ? skip + limit : 0)
  let docs = selected?.docs ?? []
  if ($natural === -1) docs = docs.reverse()
  const cursor = mingoFind(docs, {}, (body.projection as Document | undefined) ?? {})
  if (Object.keys(sort).length > 0 && selected?.sorted !== true) cursor.sort(sort)
  if (skip > 0) cursor.skip(skip)
  if (limit > 0) cursor.limit(limit)
  const results = cursor.all() as Document[]
  const single = body.singleBatch === true || (typeof body.limit === 'number' && body.limit < 0)
  return openPlainCursor(ctx.cursors, ns, results, body.batchSize as number | undefined, single)
}

/** `count` (used by `estimatedDocumentCount`). */
export const count: Handler = (ctx, { db, body }) => {
  const collection = ctx.store.get(db, String(body.count))
  let n = collection ? collection.match((body.query as Document | undefined) ?? {}).length : 0
  if (typeof body.skip === 'number') n = Math.max(0, n - body.skip)
  if (typeof body.limit === 'number' && body.limit !== 0) n = Math.min(n, Math.abs(body.limit))
  return { n, ok: 1 }
}

export const distinct: Handler = (ctx, { db, body }) => {
  const collection = ctx.store.get(db, String(body.distinct))
  const docs = collection ? collection.match((body.query as Document | undefined) ?? {}) : []
  const seen = new Map<string, unknown>()
  for (const doc of docs) {
    const value = getPath(doc, String(body.key))
    for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined) seen.set(keyOf(v), v)
  }
  return { values: [...seen.values()], ok: 1 }
}

/** `aggregate`: a change stream when the first stage is `$changeStream`, else a mingo pipeline. */
export const aggregate: Handler = (ctx, call) => {
  const { db, body } = call
  const pipeline = (body.pipeline as Document[] | undefined) ?? []
  if (pipeline[0]?.$changeStream !== undefined) return openChangeStream(ctx, call)
  for (const stage of pipeline) {
    const op = Object.keys(stage)[0]
    if (op === '$out' || op === '$merge' || op === '$changeStream') {
      throw new CommandError(115, `${op} is not supported by the simulator in this position`)
    }
  }
  const whole = body.aggregate === 1
  const collection = whole ? undefined : ctx.store.get(db, String(body.aggregate))
  const source = (collection?.all() ?? []).map((d) => clone(d))
  const results = new Aggregator(pipeline, {
    collectionResolver: (name: string) => (ctx.store.get(db, name)?.all() ?? []).map((d) => clone(d)),
  }).run(source) as Document[]
  const ns = whole ? `${db}.$cmd.aggregate` : `${db}.${String(body.aggregate)}`
  const batchSize = (body.cursor as Document | undefined)?.batchSize as number | undefined
  return openPlainCursor(ctx.cursors, ns, results, batchSize)
}

export const getMore: Handler = (ctx, call) => {
  const id = cursorIdOf(call.body.getMore)
  const cursor = ctx.cursors.get(id)
  if (!cursor) throw new CommandError(43, `cursor id ${id} not found`)
  if (cursor.kind === 'change') return ctx.cursors.using(id, () => changeGetMore(ctx, call, cursor))
  const reply = plainGetMore(ctx.cursors, cursor, call.body.batchSize as number | undefined)
  if (call.cursorId0) {
    ctx.cursors.kill(id)
    ;(reply.cursor as Document).id = 0n
  }
  return reply
}

export const listIndexes: Handler = (ctx, { db, body }) => {
  const name = String(body.listIndexes)
  const collection = ctx.store.get(db, name)
  if (!collection) throw new CommandError(26, `ns does not exist: ${db}.${name}`)
  return openPlainCursor(
    ctx.cursors,
    `${db}.${name}`,
    collection.indexes.map((i) => ({ ...i })),
    undefined,
  )
}

export const listCollections: Handler = (ctx, { db, body }) => {
  const all = ctx.store.collections(db).map((c) => ({
    name: c.name,
    type: 'collection',
    options: c.options,
    info: { readOnly: false, uuid: c.uuid },
    idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
  }))
  const filter = (body.filter as Document | undefined) ?? {}
  const matched = mingoFind(all, filter).all() as Document[]
  const docs = body.nameOnly === true ? matched.map((c) => ({ name: c.name, type: c.type })) : matched
  return openPlainCursor(ctx.cursors, `${db}.$cmd.listCollections`, docs, undefined)
}

export const listDatabases: Handler = (ctx, { body }) => {
  const databases = ctx.store.databases().map((name) => ({ name, sizeOnDisk: 0, empty: false }))
  return body.nameOnly === true
    ? { databases: databases.map(({ name }) => ({ name })), ok: 1 }
    : { databases, totalSize: 0, totalSizeMb: 0, ok: 1 }
}
