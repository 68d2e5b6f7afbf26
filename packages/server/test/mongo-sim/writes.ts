import { type Document, ObjectId } from 'bson'
import { Aggregator, update as mingoUpdate } from 'mingo'
import type { Handler, SimContext } from './context.js'
import { CommandError, writeError } from './errors.js'
import { project, sortDocs } from './reads.js'
import type { Collection } from './store.js'
import { documentDelta, operatorDelta, type UpdateDelta } from './update-description.js'
import { clone, isOperatorObject, keyOf, sameBson, setPath } from './values.js'

/** `insert`: ordered by default; duplicates become `writeErrors` with code 11000. */
export const insert: Handler = (ctx, { db, body }) => {
  const { collection } = ctx.store.ensure(db, String(body.insert))
  const docs = (body.documents as Document[] | undefined) ?? []
  const ordered = body.ordered !== false
  let n = 0
  const writeErrors: Document[] = []
  for (const [index, doc] of docs.entries()) {
    try {
      collection.insert(clone(doc))
      n++
    } catch (error) {
      if (!(error instanceof CommandError)) throw error
      writeErrors.push(writeError(index, error))
      if (ordered) break
    }
  }
  return writeErrors.length > 0 ? { n, writeErrors, ok: 1 } : { n, ok: 1 }
}

/** `update`: operators, replacements and pipelines; `upsert`, `multi`, `arrayFilters`. */
export const update: Handler = (ctx, { db, body }) => {
  const name = String(body.update)
  const ordered = body.ordered !== false
  let n = 0
  let nModified = 0
  const upserted: Document[] = []
  const writeErrors: Document[] = []
  for (const [index, stmt] of ((body.updates as Document[] | undefined) ?? []).entries()) {
    try {
      const result = updateStatement(ctx, db, name, stmt)
      n += result.n
      nModified += result.nModified
      if (result.upserted !== undefined) upserted.push({ index, _id: result.upserted })
    } catch (error) {
      if (!(error instanceof CommandError)) throw error
      writeErrors.push(writeError(index, error))
      if (ordered) break
    }
  }
  const reply: Document = { n, nModified }
  if (upserted.length > 0) reply.upserted = upserted
  if (writeErrors.length > 0) reply.writeErrors = writeErrors
  reply.ok = 1
  return reply
}

function updateStatement(
  ctx: SimContext,
  db: string,
  name: string,
  stmt: Document,
): { n: number; nModified: number; upserted?: unknown } {
  const q = (stmt.q as Document | undefined) ?? {}
  const u = stmt.u as Document | Document[]
  const arrayFilters = stmt.arrayFilters as Document[] | undefined
  const existing = ctx.store.get(db, name)
  let matches = existing ? existing.match(q) : []
  if (stmt.sort) matches = sortDocs(existing!, matches, stmt.sort as Document)
  const targets = stmt.multi === true ? matches : matches.slice(0, 1)
  if (targets.length === 0) {
    if (stmt.upsert !== true) return { n: 0, nModified: 0 }
    const { collection } = ctx.store.ensure(db, name)
    const doc = collection.insert(upsertDocument(q, u, arrayFilters))
    return { n: 1, nModified: 0, upserted: doc._id }
  }
  let nModified = 0
  for (const before of targets) {
    if (modify(existing!, before, u, q, arrayFilters)) nModified++
  }
  return { n: targets.length, nModified }
}

/** Applies an update to a stored document; returns the new version, or `null` when nothing changed. */
function modify(
  collection: Collection,
  before: Document,
  u: Document | Document[],
  q: Document,
  arrayFilters: Document[] | undefined,
): Document | null {
  const { doc: after, delta } = applyUpdate(before, u, q, arrayFilters, false)
  if (keyOf(after._id) !== keyOf(before._id)) {
    throw new CommandError(66, "Performing an update on the path '_id' would modify the immutable field '_id'")
  }
  if (sameBson(before, after)) return null
  return collection.replace(before, after, delta)
}

function isOperatorUpdate(u: Document | Document[]): boolean {
  return !Array.isArray(u) && Object.keys(u).some((k) => k.startsWith('$'))
}

/**
 * The result of applying `u` to a copy of `base`, with the change's `updateDescription`
 * (absent for a replacement). `inserting` applies `$setOnInsert`.
 */
function applyUpdate(
  base: Document,
  u: Document | Document[],
  q: Document,
  arrayFilters: Document[] | undefined,
  inserting: boolean,
): { doc: Document; delta?: UpdateDelta } {
  if (Array.isArray(u)) {
    const [doc] = new Aggregator(u).run([clone(base)])
    if (!doc) throw new CommandError(2, 'update pipeline produced no document')
    return { doc, delta: documentDelta(base, doc) }
  }
  if (!isOperatorUpdate(u)) {
    const doc = u._id === undefined ? { _id: base._id, ...u } : { ...u }
    return { doc: clone(doc) }
  }
  const { $setOnInsert, ...operators } = u as Document
  const doc = clone(base)
  let paths: string[] = []
  try {
    if (Object.keys(operators).length > 0) {
      paths = mingoUpdate(doc, operators, arrayFilters, inserting ? undefined : q)
    }
    if (inserting && $setOnInsert) paths.push(...mingoUpdate(doc, { $set: $setOnInsert as Document }))
  } catch (error) {
    if (error instanceof CommandError) throw error
    throw new CommandError(9, error instanceof Error ? error.message : String(error), [], {}, 'FailedToParse')
  }
  return { doc, delta: operatorDelta(base, doc, paths) }
}

/** The document an upsert inserts: the query's equality fields, then the update. */
function upsertDocument(q: Document, u: Document | Document[], arrayFilters: Document[] | undefined): Document {
  const seed = seedFromQuery(q)
  let doc: Document
  if (isOperatorUpdate(u) || Array.isArray(u)) {
    doc = applyUpdate(seed, u, q, arrayFilters, true).doc
  } else {
    doc = { ...(u as Document) }
    if (doc._id === undefined && seed._id !== undefined) doc = { _id: seed._id, ...doc }
  }
  return doc._id === undefined ? { _id: new ObjectId(), ...doc } : doc
}

function seedFromQuery(q: Document): Document {
  const doc: Document = {}
  for (const [key, value] of Object.entries(q)) {
    if (key === '$and' && Array.isArray(value)) {
      for (const part of value as Document[]) Object.assign(doc, seedFromQuery(part))
    } else if (key.startsWith('$')) {
      // $or, $expr, ...: no equality to copy
    } else if (isOperatorObject(value)) {
      if ('$eq' in value) setPath(doc, key, value.$eq)
    } else {
      setPath(doc, key, value)
    }
  }
  return doc
}

/** `delete`: `limit: 1` removes the first match, `limit: 0` all of them. */
export const remove: Handler = (ctx, { db, body }) => {
  const collection = ctx.store.get(db, String(body.delete))
  let n = 0
  for (const stmt of (body.deletes as Document[] | undefined) ?? []) {
    if (!collection) continue
    const matches = collection.match((stmt.q as Document | undefined) ?? {})
    for (const doc of stmt.limit === 1 ? matches.slice(0, 1) : matches) {
      collection.remove(doc)
      n++
    }
  }
  return { n, ok: 1 }
}

/** `findAndModify`: atomic read-modify-write (sequences, leases), with `upsert`, `new`, `remove`, `sort`, `fields`. */
export const findAndModify: Handler = (ctx, { db, body }) => {
  const name = String(body.findAndModify ?? body.findandmodify)
  const query = (body.query as Document | undefined) ?? {}
  const fields = body.fields as Document | undefined
  const arrayFilters = body.arrayFilters as Document[] | undefined
  const existing = ctx.store.get(db, name)
  let matches = existing ? existing.match(query) : []
  if (body.sort && matches.length > 1) matches = sortDocs(existing!, matches, body.sort as Document)
  const target = matches[0]
  const shown = (doc: Document | null | undefined) => (doc ? project([doc], fields)[0] : null)

  if (body.remove === true) {
    if (target) existing!.remove(target)
    return { lastErrorObject: { n: target ? 1 : 0 }, value: shown(target), ok: 1 }
  }
  const u = body.update as Document | Document[] | undefined
  if (u === undefined)
    throw new CommandError(9, 'Either an update or remove=true must be specified', [], {}, 'FailedToParse')
  if (target) {
    const after = modify(existing!, target, u, query, arrayFilters) ?? target
    return {
      lastErrorObject: { n: 1, updatedExisting: true },
      value: shown(body.new === true ? after : target),
      ok: 1,
    }
  }
  if (body.upsert === true) {
    const { collection } = ctx.store.ensure(db, name)
    const doc = collection.insert(upsertDocument(query, u, arrayFilters))
    return {
      lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id },
      value: body.new === true ? shown(doc) : null,
      ok: 1,
    }
  }
  return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 }
}
