import { calculateObjectSize, type Document, Timestamp } from 'bson'
import { Aggregator } from 'mingo'
import { compareTs, EXPANDED_KINDS, type LogEntry, type TokenPosition } from './changelog.js'
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
/** A reply's batch stays within 16 MB, as mongod's does: big fragments come one per batch. */
const MAX_REPLY_BATCH_BYTES = 16 * 1024 * 1024
/** The largest document mongod builds internally (16 MB + 16 KB): a bigger change event fails with 10334. */
const MAX_EVENT_BYTES = 16 * 1024 * 1024 + 16 * 1024
/** Room a fragment leaves for its `_id` and `splitEvent`. */
const FRAGMENT_OVERHEAD = 1024
const SPLIT_STAGE = '$changeStreamSplitLargeEvent'
/** Stages a change stream pipeline may hold after `$changeStream`. */
const ALLOWED_STAGES = new Set([
  '$match',
  '$project',
  '$addFields',
  '$set',
  '$unset',
  '$replaceRoot',
  '$replaceWith',
  '$redact',
  SPLIT_STAGE,
])
/** Aggregation stages a server knows but refuses in a change stream (code 20); any other name is 40324. */
const OTHER_STAGES = new Set([
  '$bucket',
  '$bucketAuto',
  '$collStats',
  '$count',
  '$densify',
  '$facet',
  '$fill',
  '$geoNear',
  '$graphLookup',
  '$group',
  '$indexStats',
  '$limit',
  '$lookup',
  '$merge',
  '$out',
  '$sample',
  '$setWindowFields',
  '$skip',
  '$sort',
  '$sortByCount',
  '$unionWith',
  '$unwind',
  '$documents',
  '$listSessions',
  '$currentOp',
])
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
  const split = checkPipeline(rest)
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
  let skipFragments = 0
  const token = stage.resumeAfter ?? stage.startAfter
  if (token !== undefined) {
    const at = log.parseToken(token)
    if (at.kind === 'invalidate' && stage.resumeAfter !== undefined) {
      throw new CommandError(
        260,
        "Attempting to resume a change stream using 'resumeAfter' is not allowed from an invalidate notification.",
      )
    }
    log.assertRetained(at.seq)
    checkResumePoint(ctx, scope, at, token as Document, split)
    pos = at.seq
    // Resuming from a fragment: the rest of that event's fragments come first.
    if (at.fragment > 0) {
      pos = at.seq - 1
      skipFragments = at.fragment
    }
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
    pipeline: userStages(rest).length > 0 ? new Aggregator(userStages(rest)) : null,
    split,
    skipFragments,
    pending: [],
    showExpandedEvents: stage.showExpandedEvents === true,
  }
  const batchSize = (body.cursor as Document | undefined)?.batchSize as number | undefined
  const { docs, closed } = nextBatch(ctx, cursor, batchSize ?? Number.POSITIVE_INFINITY)
  if (!closed) ctx.cursors.add(cursor)
  return cursorReply(closed ? 0n : cursor.id, ns, 'firstBatch', docs, {
    postBatchResumeToken: postBatchToken(ctx, cursor, docs),
  })
}

/** `getMore` on a change cursor: blocks up to `maxTimeMS` until a change passes the stream's filter. */
export async function changeGetMore(ctx: SimContext, call: CommandCall, cursor: ChangeCursor): Promise<Document> {
  const { body, signal } = call
  const requested = typeof body.batchSize === 'number' && body.batchSize > 0 ? body.batchSize : undefined
  const waitMs = typeof body.maxTimeMS === 'number' ? body.maxTimeMS : DEFAULT_AWAIT_MS
  const deadline = Date.now() + waitMs
  if (call.replay !== undefined) cursor.pos = Math.max(ctx.log.floor, cursor.pos - call.replay)
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
    postBatchResumeToken: postBatchToken(ctx, cursor, batch.docs),
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
  /** Adds fragments or changes while the reply stays under 16 MB; the rest wait for the next batch. */
  const take = (queue: Document[]): boolean => {
    while (queue.length > 0) {
      const size = calculateObjectSize(queue[0]!)
      if (docs.length > 0 && bytes + size > MAX_REPLY_BATCH_BYTES) return false
      docs.push(queue.shift()!)
      bytes += size
    }
    return true
  }
  if (!take(cursor.pending)) return { docs, closed: false }
  if (docs.length >= batchSize || bytes >= MAX_BATCH_BYTES) return { docs, closed: false }
  for (const entry of log.after(cursor.pos)) {
    const hidden = EXPANDED_KINDS.has(entry.kind) && !cursor.showExpandedEvents
    if (hidden || !visible(entry, cursor.scope) || (cursor.startTs && compareTs(entry.ts, cursor.startTs) < 0)) {
      cursor.pos = entry.seq
      continue
    }
    const change = changeDocument(ctx, cursor, entry)
    if (entry.kind === 'invalidate') {
      cursor.pos = entry.seq
      docs.push(change)
      return { docs, closed: true }
    }
    // The pipeline gets a copy: stages such as $set must not reach stored documents.
    const out = cursor.pipeline ? (cursor.pipeline.run([clone(change)]) as Document[]) : [change]
    const ready: Document[] = []
    for (const doc of out) {
      if (keyOf(doc._id) !== keyOf(change._id)) {
        throw new CommandError(
          280,
          'Encountered an event whose _id field, which contains the resume token, was modified by the pipeline. Modifying the _id field of an event makes it impossible to resume the stream from that point. Only transformations that retain the unmodified _id field are allowed.',
          ['NonResumableChangeStreamError'],
        )
      }
      ready.push(...sized(ctx, cursor, entry, doc))
    }
    // A change that does not fit waits, unexamined, for the next batch.
    if (docs.length > 0 && ready.length > 0 && bytes + calculateObjectSize(ready[0]!) > MAX_REPLY_BATCH_BYTES) {
      return { docs, closed: false }
    }
    // Examined only once the whole event passed: a too-large event fails every time it is read.
    cursor.pos = entry.seq
    if (!take(ready)) {
      cursor.pending = ready
      return { docs, closed: false }
    }
    if (docs.length >= batchSize || bytes >= MAX_BATCH_BYTES) return { docs, closed: false }
  }
  cursor.pos = log.head
  return { docs, closed: false }
}

/** The post-batch token: the last event returned when the batch is cut short, else the high-water mark. */
function postBatchToken(ctx: SimContext, cursor: ChangeCursor, docs: Document[]): Document {
  const last = docs.at(-1)
  const position = last === undefined ? undefined : ctx.log.parseToken(last._id)
  if (
    last !== undefined &&
    position !== undefined &&
    position.seq === cursor.pos &&
    position.kind !== 'highWaterMark'
  ) {
    return last._id as Document
  }
  return ctx.log.highWaterMark(cursor.pos)
}

/** The stages a user gave, without `$changeStreamSplitLargeEvent` (the simulator splits events itself). */
function userStages(stages: Document[]): Document[] {
  return stages.filter((stage) => Object.keys(stage)[0] !== SPLIT_STAGE)
}

/** Checks the stages after `$changeStream` as mongod does; true when the last one splits large events. */
function checkPipeline(stages: Document[]): boolean {
  let split = false
  for (const [i, stage] of stages.entries()) {
    const name = Object.keys(stage)[0] ?? ''
    if (name === '$changeStream') {
      throw new CommandError(40602, '$changeStream is only valid as the first stage in a pipeline.')
    }
    if (name === SPLIT_STAGE) {
      if (i !== stages.length - 1) {
        throw new CommandError(7182802, `${SPLIT_STAGE} must be the last stage in the pipeline`)
      }
      split = true
      continue
    }
    if (!ALLOWED_STAGES.has(name)) {
      if (!OTHER_STAGES.has(name)) throw new CommandError(40324, `Unrecognized pipeline stage name: '${name}'`)
      throw new CommandError(20, `${name} is not permitted in a $changeStream pipeline`, [], {}, 'IllegalOperation')
    }
  }
  return split
}

/**
 * A resume point must be in this stream: an event token names a change the stream would have
 * returned (before the user's stages), else 280, as mongod's resume-token check answers.
 */
function checkResumePoint(
  ctx: SimContext,
  scope: StreamScope,
  at: TokenPosition,
  token: Document,
  split: boolean,
): void {
  if (at.kind === 'highWaterMark') return
  const entry = ctx.log.entryAt(at.seq)
  // The change itself just fell off the history: everything after it is still there.
  if (entry === undefined && at.seq <= ctx.log.floor) return
  if (entry === undefined || !visible(entry, scope)) {
    throw new CommandError(280, `cannot resume stream; the resume token was not found. ${JSON.stringify(token)}`, [
      'NonResumableChangeStreamError',
    ])
  }
  if (at.fragment > 0 && !split) {
    throw new CommandError(
      280,
      `To resume from a split event, the $changeStream pipeline must end with ${SPLIT_STAGE}`,
      ['NonResumableChangeStreamError'],
    )
  }
}

/**
 * An event within the 16 MB limit as it is; a bigger one split into fragments when the pipeline
 * ends with `$changeStreamSplitLargeEvent`, else error 10334 as mongod answers.
 */
function sized(ctx: SimContext, cursor: ChangeCursor, entry: LogEntry, doc: Document): Document[] {
  const size = calculateObjectSize(doc)
  if (size <= MAX_EVENT_BYTES) {
    // Resumed from a fragment of an event that no longer needs splitting: that point is gone.
    if (cursor.skipFragments > 0) {
      throw new CommandError(280, 'cannot resume stream; the resume token was not found.', [
        'NonResumableChangeStreamError',
      ])
    }
    return [doc]
  }
  if (!cursor.split) {
    throw new CommandError(
      10334,
      `BSONObj size: ${size} (0x${size.toString(16).toUpperCase()}) is invalid. Size must be between 0 and 16793600(16MB) First element: _id: ${JSON.stringify(doc._id)}`,
      [],
      {},
      'BSONObjectTooLarge',
    )
  }
  const groups: Document[] = []
  let current: Document = {}
  let used = FRAGMENT_OVERHEAD
  for (const [key, value] of Object.entries(doc)) {
    if (key === '_id') continue
    const fieldBytes = calculateObjectSize({ [key]: value })
    if (fieldBytes + FRAGMENT_OVERHEAD > MAX_EVENT_BYTES) {
      throw new CommandError(
        7182500,
        `Field '${key}' of a change event is too large to fit in a fragment of ${SPLIT_STAGE}`,
        [],
        {},
        'BSONObjectTooLarge',
      )
    }
    if (used + fieldBytes > MAX_EVENT_BYTES && Object.keys(current).length > 0) {
      groups.push(current)
      current = {}
      used = FRAGMENT_OVERHEAD
    }
    current[key] = value
    used += fieldBytes
  }
  groups.push(current)
  const fragments = groups.map((fields, i) => ({
    _id: ctx.log.token(entry.seq, 'event', i + 1),
    splitEvent: { fragment: i + 1, of: groups.length },
    ...fields,
  }))
  const skip = cursor.skipFragments
  cursor.skipFragments = 0
  return fragments.slice(skip)
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
    _id: ctx.log.token(entry.seq, invalidate ? 'invalidate' : 'event'),
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
      doc.fullDocument = image(entry, 'post', cursor.fullDocument)
    }
  }
  doc.ns = entry.ns.coll === undefined ? { db: entry.ns.db } : { db: entry.ns.db, coll: entry.ns.coll }
  if (entry.to) doc.to = { ...entry.to }
  if (cursor.showExpandedEvents) {
    if (entry.uuid) doc.collectionUUID = entry.uuid
    if (entry.operationDescription) doc.operationDescription = entry.operationDescription
    if (entry.stateBeforeChange) doc.stateBeforeChange = entry.stateBeforeChange
  }
  if (entry.documentKey) doc.documentKey = entry.documentKey
  if (entry.txn) {
    doc.lsid = entry.txn.lsid
    doc.txnNumber = entry.txn.txnNumber
  }
  if (entry.updateDescription) {
    doc.updateDescription = cursor.showExpandedEvents
      ? { ...entry.updateDescription, disambiguatedPaths: entry.disambiguatedPaths ?? {} }
      : entry.updateDescription
  }
  if (cursor.fullDocumentBeforeChange !== 'off' && ['update', 'replace', 'delete'].includes(entry.kind)) {
    doc.fullDocumentBeforeChange = image(entry, 'pre', cursor.fullDocumentBeforeChange)
  }
  return doc
}

/**
 * A pre- or post-image: kept only when the collection had `changeStreamPreAndPostImages` enabled
 * at the time of the write; missing, `whenAvailable` gives null and `required` fails with 47.
 */
function image(entry: LogEntry, which: 'pre' | 'post', mode: string): Document | null {
  const found = entry.images === true ? (entry[which] ?? null) : null
  if (found !== null || mode !== 'required') return found
  const what = which === 'pre' ? 'pre-image' : 'post-image'
  const events = which === 'pre' ? 'update, delete and replace events' : 'update events'
  throw new CommandError(
    47,
    `Change stream was configured to require a ${what} for all ${events}, but the ${what} was not found for event: ${JSON.stringify({ ns: entry.ns, documentKey: entry.documentKey })}`,
    [],
    {},
    'NoMatchingDocument',
  )
}
