import type { Document } from 'bson'
import type { Handler } from './context.js'
import { CommandError } from './errors.js'

/** `createIndexes`; `unique` is enforced, `expireAfterSeconds` expires documents lazily. */
export const createIndexes: Handler = (ctx, { db, body }) => {
  const { collection, created } = ctx.store.ensure(db, String(body.createIndexes))
  const before = collection.indexes.length
  for (const spec of (body.indexes as Document[] | undefined) ?? []) collection.createIndex(spec)
  if (collection.indexes.length > before) {
    ctx.log.append({
      kind: 'createIndexes',
      ns: { db, coll: collection.name },
      uuid: collection.uuid,
      operationDescription: { indexes: collection.indexes.slice(before).map((i) => ({ ...i })) },
    })
  }
  const reply: Document = {
    numIndexesBefore: before,
    numIndexesAfter: collection.indexes.length,
    createdCollectionAutomatically: created,
  }
  if (before === collection.indexes.length) reply.note = 'all indexes already exist'
  reply.ok = 1
  return reply
}

export const dropIndexes: Handler = (ctx, { db, body }) => {
  const name = String(body.dropIndexes)
  const collection = ctx.store.get(db, name)
  if (!collection) throw new CommandError(26, `ns not found ${db}.${name}`)
  const nIndexesWas = collection.indexes.length
  const names = body.index === '*' ? collection.indexes.slice(1).map((i) => i.name) : [body.index]
  const dropped: Document[] = []
  for (const index of names.flat()) {
    const spec = collection.indexes.find((i) => i.name === String(index))
    if (!collection.dropIndex(String(index)))
      throw new CommandError(27, `index not found with name [${index}]`, [], {}, 'IndexNotFound')
    if (spec) dropped.push({ ...spec })
  }
  if (dropped.length > 0) {
    ctx.log.append({
      kind: 'dropIndexes',
      ns: { db, coll: name },
      uuid: collection.uuid,
      operationDescription: { indexes: dropped },
    })
  }
  return { nIndexesWas, ok: 1 }
}

const NOT_OPTIONS = new Set(['create', '$db', 'lsid', 'txnNumber', '$clusterTime', 'writeConcern', '$readPreference'])

export const create: Handler = (ctx, { db, body }) => {
  const name = String(body.create)
  if (ctx.store.get(db, name)) throw new CommandError(48, `Collection ${db}.${name} already exists.`)
  const options = Object.fromEntries(Object.entries(body).filter(([k]) => !NOT_OPTIONS.has(k)))
  ctx.store.ensure(db, name, options)
  return { ok: 1 }
}

/** `drop`: logs `drop` and the `invalidate` that closes the collection's change streams. */
export const drop: Handler = (ctx, { db, body }) => {
  const name = String(body.drop)
  const collection = ctx.store.drop(db, name)
  if (!collection) throw new CommandError(26, 'ns not found')
  return { nIndexesWas: collection.indexes.length, ns: collection.ns, ok: 1 }
}

/** `renameCollection` (on `admin`): `{ renameCollection: 'db.from', to: 'db.to', dropTarget? }`. */
export const renameCollection: Handler = (ctx, { body }) => {
  const split = (ns: unknown, field: string) => {
    const text = String(ns)
    const dot = text.indexOf('.')
    if (dot <= 0 || dot === text.length - 1) throw new CommandError(73, `Invalid ${field} namespace: ${text}`)
    return { db: text.slice(0, dot), coll: text.slice(dot + 1) }
  }
  ctx.store.rename(split(body.renameCollection, 'source'), split(body.to, 'target'), body.dropTarget === true)
  return { ok: 1 }
}

export const dropDatabase: Handler = (ctx, { db }) => {
  ctx.store.dropDatabase(db)
  return { dropped: db, ok: 1 }
}

/** `collMod`: only `changeStreamPreAndPostImages` changes anything; other options are accepted. */
export const collMod: Handler = (ctx, { db, body }) => {
  const name = String(body.collMod)
  const collection = ctx.store.get(db, name)
  if (!collection) throw new CommandError(26, `ns does not exist: ${db}.${name}`)
  const before = { ...collection.options }
  const changed: Document = {}
  const images = body.changeStreamPreAndPostImages
  if (images !== undefined) {
    changed.changeStreamPreAndPostImages = images
    if (typeof images !== 'object' || images === null || typeof (images as Document).enabled !== 'boolean') {
      throw new CommandError(14, "BSON field 'changeStreamPreAndPostImages.enabled' is missing but a required field")
    }
    collection.options = {
      ...collection.options,
      changeStreamPreAndPostImages: { enabled: (images as Document).enabled },
    }
  }
  ctx.log.append({
    kind: 'modify',
    ns: { db, coll: name },
    uuid: collection.uuid,
    operationDescription: changed,
    stateBeforeChange: { collectionOptions: { uuid: collection.uuid, ...before } },
  })
  return { ok: 1 }
}
