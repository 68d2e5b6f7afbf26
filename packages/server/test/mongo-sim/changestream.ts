import { calculateObjectSize, type Document, Timestamp } from 'bson'
import { Aggregator } from 'mingo'
import { compareTs, type LogEntry } from './changelog.js'
import type { CommandCall, SimContext } from './context.js'
import { type ChangeCursor, cursorReply, type StreamScope } from './cursors.js'
import { CommandError } from './errors.js'
import { clone, keyOf } from './values.js'

const STAGE_OPTIONS = new Set([
  'resumeAfter',
  'startAfter',
  'startAtOperationTime',
  'fullDocument',
  'fullDocumentBeforeChange',
  'allChangesForCluster',
  'showExpandedEvents',
  'showSystemEvents',
  'allowToRunOnConfigDB',
])
const FULL_DOCUMENT = new Set(['default', 'updateLookup', 'whenAvailable', 'required'])
const BEFORE_CHANGE = new Set(['off', 'whenAvailable', 'required'])
const SYSTEM_DBS = new Set(['admin', 'config', 'local'])
/** A real server caps a batch at 16 MB; stay well under it. */
const MAX_BATCH_BYTES = 8 * 1024 * 1024
/** getMore on an awaitData cursor without maxTimeMS waits this long, as mongod does. */
const DEFAULT_AWAIT_MS = 1000

/** `aggregate` whose first stage is `$changeStream`: opens a change cursor and returns what is already there. */
export function openChangeStream(ctx: SimContext, call: CommandCall): Document {
  if (ctx.setName === null) {
    throw new CommandError(40573, 'The $changeStream stage is only supported on replica sets')
  }
  const { db, body } = call
  const [first, ...rest] = body.pipeline as Document[]
  const stage = (first!.$changeStream ?? {}) as Document
  for (const key of Object.keys(stage)) {
    if (!STAGE_OPTIONS.has(key)) {
      throw new CommandError(40415, `BSON field '$changeStream.${key}' is an unknown field.`)
    }
  }
  for (const inner of rest) {
    if (Object.keys(inner).some((k) => k === '$changeStream')) {
      throw new CommandError(40602, '$changeStream is only valid as the first stage in a pipeline.')
    }
  }
  const starts = ['resumeAfter', 'startAfter', 'startAtOperationTime'].filter((k) => stage[k] !== undefined)
  if (starts.length > 1) {
    throw new CommandError(50865, 'Only one type of resume option is allowed, but multiple were found.')
  }
  const fullDocument = String(stage.fullDocument ?? 'default')
  const fullDocumentBeforeChange = String(stage.fullDocumentBeforeChange ?? 'off')
  if (!FULL_DOCUMENT.has(fullDocument)) throw new CommandError(2, `unknown fullDocument mode '${fullDocument}'`)
  if (!BEFORE_CHANGE.has(fullDocumentBeforeChange)) {
    throw new CommandError(2, `unknown fullDocumentBeforeChange mode '${fullDocumentBeforeChange}'`)
  }

  const whole = body.aggregate === 1
  let scope: StreamScope
  if (stage.allChangesForCluster === true) {
    if (db !== 'admin' || !whole) {
      throw new CommandError(
        40609,
        "A $changeStream with 'allChangesForCluster:true' may only be opened on the 'admin' database, and with no collection name",
      )
    }
    scope = { type: 'cluster' }
  } else if (whole) {
    if (SYSTEM_DBS.has(db)) throw new CommandError(73, `$changeStream may not be opened on the internal ${db} database`)
    scope = { type: 'database', db }
  } else {
    scope = { type: 'collection', db, coll: String(body.aggregate) }
  }

  const { log } = ctx
  let pos = log.head
  let startTs: Timestamp | undefined
  const token = stage.resumeAfter ?? stage.startAfter
  if (token !== undefined) {
    const at = log.parseToken(token)
    if (at.invalidate && stage.resumeAfter !== undefined) {
      throw new CommandError(
        260,
        "Attempting to resume a change stream using 'resumeAfter' is not allowed from an invalidate notification.",
      )
    }
    log.assertRetained(at.seq)
    pos = at.seq
  } else if (stage.startAtOperationTime instanceof Timestamp) {
    startTs = stage.startAtOperationTime
    pos = log.positionBefore(startTs)
  }

  const ns = whole ? `${db}.$cmd.aggregate` : `${db}.${String(body.aggregate)}`
  const cursor: ChangeCursor = {
    kind: 'change',
    id: ctx.cursors.newId(),
    ns,
    scope,
    pos,
    startTs,
    fullDocument,
    fullDocumentBeforeChange,
    pipeline: rest.length > 0 ? new Aggregator(rest) : null,
  }
  const batchSize = (body.cursor as Document | undefined)?.batchSize as number | undefined
  const { docs, closed } = nextBatch(ctx, cursor, batchSize ?? Number.POSITIVE_INFINITY)
  if (!closed) ctx.cursors.add(cursor)
  return cursorReply(closed ? 0n : cursor.id, ns, 'firstBatch', docs, {
    postBatchResumeToken: log.token(cursor.pos),
  })
}

/** `getMore` on a change cursor: blocks up to `maxTimeMS` until a change passes the stream's filter. */
export async function changeGetMore(ctx: SimContext, call: CommandCall, cursor: ChangeCursor): Promise<Document> {
  const { body, signal } = call
  const requested = typeof body.batchSize === 'number' && body.batchSize > 0 ? body.batchSize : undefined
  const waitMs = typeof body.maxTimeMS === 'number' ? body.maxTimeMS : DEFAULT_AWAIT_MS
  const deadline = Date.now() + waitMs
  let batch = nextBatch(ctx, cursor, requested ?? Number.POSITIVE_INFINITY)
  while (batch.docs.length === 0 && !batch.closed && !signal.aborted) {
    const left = deadline - Date.now()
    if (left <= 0) break
    await ctx.log.waitForChange(left, signal)
    if (ctx.cursors.get(cursor.id) !== cursor) {
      throw new CommandError(237, `cursor id ${cursor.id} was killed`)
    }
    batch = nextBatch(ctx, cursor, requested ?? Number.POSITIVE_INFINITY)
  }
  const closed = batch.closed || call.cursorId0
  if (closed) ctx.cursors.kill(cursor.id)
  return cursorReply(closed ? 0n : cursor.id, cursor.ns, 'nextBatch', batch.docs, {
    postBatchResumeToken: ctx.log.token(cursor.pos),
  })
}

/**
 * Examines the log after the cursor's position and returns the changes its pipeline lets through.
 * The cursor's position moves past everything examined, so the post-batch token advances even
 * when nothing matched. `closed` is set after an `invalidate`.
 */
function nextBatch(ctx: SimContext, cursor: ChangeCursor, batchSize: number): { docs: Document[]; closed: boolean } {
  const { log } = ctx
  log.assertRetained(cursor.pos)
  const docs: Document[] = []
  if (batchSize <= 0) return { docs, closed: false }
  let bytes = 0
  for (const entry of log.after(cursor.pos)) {
    if (!visible(entry, cursor.scope) || (cursor.startTs && compareTs(entry.ts, cursor.startTs) < 0)) {
      cursor.pos = entry.seq
      continue
    }
    const change = changeDocument(ctx, cursor, entry)
    cursor.pos = entry.seq
    if (entry.kind === 'invalidate') {
      docs.push(change)
      return { docs, closed: true }
    }
    // The pipeline gets a copy: stages such as $set must not reach stored documents.
    const out = cursor.pipeline ? (cursor.pipeline.run([clone(change)]) as Document[]) : [change]
    for (const doc of out) {
      if (keyOf(doc._id) !== keyOf(change._id)) {
        throw new CommandError(
          280,
          'Encountered an event whose _id field, which contains the resume token, was modified by the pipeline. Modifying the _id field of an event makes it impossible to resume the stream from that point.',
        )
      }
      docs.push(doc)
      bytes += calculateObjectSize(doc)
    }
    if (docs.length >= batchSize || bytes >= MAX_BATCH_BYTES) return { docs, closed: false }
  }
  cursor.pos = log.head
  return { docs, closed: false }
}

function visible(entry: LogEntry, scope: StreamScope): boolean {
  if (entry.kind === 'invalidate') {
    if (scope.type === 'cluster' || entry.closes !== scope.type) return false
    if (scope.type === 'database') return entry.ns.db === scope.db
    return entry.ns.db === scope.db && entry.ns.coll === scope.coll
  }
  switch (scope.type) {
    case 'collection':
      return entry.ns.db === scope.db && entry.ns.coll === scope.coll
    case 'database':
      return entry.ns.db === scope.db
    case 'cluster':
      return !SYSTEM_DBS.has(entry.ns.db)
  }
}

/** The change event document, shaped as mongod sends it. */
function changeDocument(ctx: SimContext, cursor: ChangeCursor, entry: LogEntry): Document {
  const invalidate = entry.kind === 'invalidate'
  const doc: Document = {
    _id: ctx.log.token(entry.seq, invalidate),
    operationType: entry.kind,
    clusterTime: entry.ts,
    wallTime: entry.wall,
  }
  if (invalidate) return doc
  if (entry.kind === 'insert' || entry.kind === 'replace') {
    doc.fullDocument = entry.post
  } else if (entry.kind === 'update') {
    if (cursor.fullDocument === 'updateLookup') {
      const current = ctx.store.get(entry.ns.db, entry.ns.coll ?? '')?.byIdValue(entry.documentKey?._id)
      doc.fullDocument = current ?? null
    } else if (cursor.fullDocument === 'whenAvailable' || cursor.fullDocument === 'required') {
      doc.fullDocument = entry.post ?? null
    }
  }
  doc.ns = entry.ns.coll === undefined ? { db: entry.ns.db } : { db: entry.ns.db, coll: entry.ns.coll }
  if (entry.documentKey) doc.documentKey = entry.documentKey
  if (entry.updateDescription) doc.updateDescription = entry.updateDescription
  if (cursor.fullDocumentBeforeChange !== 'off' && ['update', 'replace', 'delete'].includes(entry.kind)) {
    doc.fullDocumentBeforeChange = entry.pre ?? null
  }
  return doc
}
