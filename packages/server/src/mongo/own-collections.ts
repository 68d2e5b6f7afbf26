/**
 * Keeping rt's own collections out of a database- or cluster-wide change stream, so it never
 * reads its own checkpoints, leases or log entries (each would be a change, and a checkpoint).
 * @module
 */
import type { Document } from 'mongodb'
import { RtError } from '../index.js'
import type { TokenStore } from './token-store.js'

/** The collection names rt uses by default: token store, `mongoLog` and its sequence. */
const DEFAULT_OWN_COLLECTIONS: readonly string[] = ['rt_tokens', 'rt_log', 'rt_log.meta']

const MAX_EXCLUDE = 1_000

/** Validates the `exclude` option: non-empty names, at most {@link MAX_EXCLUDE}. */
export function checkExclude(source: string, exclude: readonly string[] | undefined): void {
  if (exclude === undefined) return
  if (!Array.isArray(exclude) || exclude.length > MAX_EXCLUDE) {
    throw new RtError(
      'invalid_option',
      `mongoChangeStream ${source}: exclude must be an array of at most ${MAX_EXCLUDE} names`,
    )
  }
  for (const name of exclude) {
    if (
      typeof name !== 'string' ||
      name.length === 0 ||
      name.length > 255 ||
      name.startsWith('.') ||
      name.endsWith('.')
    ) {
      throw new RtError(
        'invalid_option',
        `mongoChangeStream ${source}: exclude holds 'collection' or 'db.collection' names, got ${JSON.stringify(name)}`,
      )
    }
  }
}

/**
 * A `$match` that drops changes to rt's collections: the token store's own (exact
 * namespace), rt's default names in any database, and `exclude`. A name with a dot whose
 * first part is not a database is also matched as a collection name (`rt_log.meta`).
 */
export function ownCollectionsStage(tokens: TokenStore, exclude: readonly string[] = []): Document {
  const anyDb = new Set<string>(DEFAULT_OWN_COLLECTIONS)
  const exact: { db: string; coll: string }[] = []
  for (const name of [...(tokens.collections ?? []), ...exclude]) {
    anyDb.add(name)
    const dot = name.indexOf('.')
    if (dot > 0) exact.push({ db: name.slice(0, dot), coll: name.slice(dot + 1) })
  }
  const nor: Document[] = [{ 'ns.coll': { $in: [...anyDb] } }]
  for (const { db, coll } of exact) nor.push({ 'ns.db': db, 'ns.coll': coll })
  return { $match: { $nor: nor } }
}
