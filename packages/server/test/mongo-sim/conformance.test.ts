/**
 * Conformance of the simulator's change streams with what a real replica set answers, through
 * the real driver. Written from the facts of the MongoDB specifications' change-stream tests
 * (source/change-streams/tests/unified) and the server's own tests: pre- and post-images,
 * pipeline validation and large events, server-added error labels, resume token checks.
 */
import { type ChangeStream, type Db, type Document, MongoClient, type MongoServerError } from 'mongodb'
import { afterEach, describe, expect, test } from 'vitest'
import { type MongoSim, startMongoSim } from './index.js'

const cleanups: (() => Promise<unknown> | unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function setup(): Promise<{ sim: MongoSim; db: Db; client: MongoClient }> {
  const sim = await startMongoSim()
  cleanups.push(() => sim.close())
  const client = new MongoClient(sim.uri, { heartbeatFrequencyMS: 500, serverSelectionTimeoutMS: 3000 })
  cleanups.push(() => client.close())
  await client.connect()
  return { sim, client, db: client.db('conformance') }
}

function watch(
  db: Db,
  pipeline: Document[] = [],
  options: Document = {},
  coll = 'test',
): ChangeStream<Document, Document> {
  const stream = db.collection(coll).watch<Document, Document>(pipeline, { maxAwaitTimeMS: 50, ...options })
  cleanups.push(() => stream.close())
  return stream
}

/** Opens the stream on the server (first aggregate), so later writes reach it. */
async function opened(stream: ChangeStream<Document, Document>): Promise<ChangeStream<Document, Document>> {
  expect(await stream.tryNext()).toBeNull()
  return stream
}

function aggregatesOf(sim: MongoSim): Document[] {
  return sim.commands
    .filter((c) => c.name === 'aggregate')
    .map((c) => (c.body.pipeline as Document[])[0]?.$changeStream as Document | undefined)
    .filter((stage): stage is Document => stage !== undefined)
}

describe('6. pre- and post-images only where changeStreamPreAndPostImages is on', () => {
  const cases = [
    { option: 'fullDocument', mode: 'whenAvailable', enabled: true, field: 'fullDocument', expected: { _id: 1, x: 1 } },
    { option: 'fullDocument', mode: 'whenAvailable', enabled: false, field: 'fullDocument', expected: null },
    { option: 'fullDocument', mode: 'required', enabled: true, field: 'fullDocument', expected: { _id: 1, x: 1 } },
    { option: 'fullDocument', mode: 'required', enabled: false, field: 'fullDocument', error: 47 },
    {
      option: 'fullDocumentBeforeChange',
      mode: 'whenAvailable',
      enabled: true,
      field: 'fullDocumentBeforeChange',
      expected: { _id: 1 },
    },
    {
      option: 'fullDocumentBeforeChange',
      mode: 'whenAvailable',
      enabled: false,
      field: 'fullDocumentBeforeChange',
      expected: null,
    },
    {
      option: 'fullDocumentBeforeChange',
      mode: 'required',
      enabled: true,
      field: 'fullDocumentBeforeChange',
      expected: { _id: 1 },
    },
    {
      option: 'fullDocumentBeforeChange',
      mode: 'required',
      enabled: false,
      field: 'fullDocumentBeforeChange',
      error: 47,
    },
    { option: 'fullDocumentBeforeChange', mode: 'off', enabled: true, field: 'fullDocumentBeforeChange', absent: true },
    {
      option: 'fullDocumentBeforeChange',
      mode: 'off',
      enabled: false,
      field: 'fullDocumentBeforeChange',
      absent: true,
    },
  ] as const
  for (const c of cases) {
    test(`${c.option}: '${c.mode}' with images ${c.enabled ? 'enabled' : 'disabled'}`, async () => {
      const { db } = await setup()
      await db.collection('test').insertOne({ _id: 1 } as Document)
      await db.command({ collMod: 'test', changeStreamPreAndPostImages: { enabled: c.enabled } })
      const stream = await opened(watch(db, [], { [c.option]: c.mode }))
      await db.collection('test').updateOne({ _id: 1 } as Document, { $set: { x: 1 } })
      if ('error' in c) {
        const error = (await stream.next().catch((e: unknown) => e)) as MongoServerError
        expect(error).toMatchObject({ code: 47, codeName: 'NoMatchingDocument' })
        expect(stream.closed).toBe(true)
        return
      }
      const change = await stream.next()
      expect(change).toMatchObject({ operationType: 'update', ns: { db: 'conformance', coll: 'test' } })
      expect(typeof change.updateDescription).toBe('object')
      if ('absent' in c) expect(c.field in change).toBe(false)
      else expect(change[c.field]).toEqual(c.expected)
    })
  }

  test('the option set at create time counts from the start; changes before collMod have no image', async () => {
    const { db } = await setup()
    await db.createCollection('withImages', { changeStreamPreAndPostImages: { enabled: true } })
    await db.collection('withImages').insertOne({ _id: 1, v: 0 } as Document)
    await db.collection('test').insertOne({ _id: 1, v: 0 } as Document)
    const a = await opened(watch(db, [], { fullDocumentBeforeChange: 'whenAvailable' }, 'withImages'))
    const b = await opened(watch(db, [], { fullDocumentBeforeChange: 'whenAvailable' }, 'test'))
    await db.collection('withImages').deleteOne({ _id: 1 } as Document)
    await db.collection('test').updateOne({ _id: 1 } as Document, { $set: { v: 1 } })
    await db.command({ collMod: 'test', changeStreamPreAndPostImages: { enabled: true } })
    await db.collection('test').updateOne({ _id: 1 } as Document, { $set: { v: 2 } })
    expect((await a.next()).fullDocumentBeforeChange).toEqual({ _id: 1, v: 0 })
    expect((await b.next()).fullDocumentBeforeChange).toBeNull()
    expect((await b.next()).fullDocumentBeforeChange).toEqual({ _id: 1, v: 1 })
  })
})

describe('7. pipeline validation, $changeStreamSplitLargeEvent and the 16 MB limit', () => {
  test.each([
    [[{ $unsupported: 'foo' }], 40324],
    [[{ $group: { _id: null } }], 20],
    [[{ $changeStreamSplitLargeEvent: {} }, { $project: { fullDocument: 0 } }], 7182802],
    [[{ $match: {} }, { $changeStream: {} }], 40602],
  ])('%j is refused by the aggregate with code %i', async (pipeline, code) => {
    const { db } = await setup()
    const stream = watch(db, pipeline)
    await expect(stream.tryNext()).rejects.toMatchObject({ code })
  })

  test('an event whose _id is projected out fails with 280 when it is reached', async () => {
    const { db } = await setup()
    const stream = await opened(watch(db, [{ $project: { _id: 0 } }]))
    await db.collection('test').insertOne({ z: 3 })
    await expect(stream.next()).rejects.toMatchObject({
      code: 280,
      errorLabels: expect.arrayContaining(['NonResumableChangeStreamError']),
    })
  })

  /** A document of about 9 MB: with both images its update event is over 16 MB. */
  const big = 'x'.repeat(9 * 1024 * 1024)

  async function largeUpdate(db: Db): Promise<void> {
    await db.createCollection('test', { changeStreamPreAndPostImages: { enabled: true } })
    await db.collection('test').insertOne({ _id: 'aaa', a: big } as Document)
  }

  test('an event over 16 MB fails with 10334; events under it pass unchanged through the split stage', async () => {
    const { db } = await setup()
    await largeUpdate(db)
    const images = { fullDocument: 'required', fullDocumentBeforeChange: 'required' }
    const plain = await opened(watch(db, [], images))
    const splitting = await opened(watch(db, [{ $changeStreamSplitLargeEvent: {} }], images))
    await db.collection('test').insertOne({ _id: 'small' } as Document)
    const small = await splitting.next()
    expect(small.splitEvent).toBeUndefined()
    expect(small.documentKey).toEqual({ _id: 'small' })
    expect((await plain.next()).documentKey).toEqual({ _id: 'small' })
    await db.collection('test').updateOne({ _id: 'aaa' } as Document, { $set: { n: 1 } })
    await expect(plain.next()).rejects.toMatchObject({ code: 10334, codeName: 'BSONObjectTooLarge' })
  })

  test('split fragments: numbered, one token each, reassembled into the event; resuming from one skips to the next', async () => {
    const { db } = await setup()
    await largeUpdate(db)
    const options = { fullDocument: 'required', fullDocumentBeforeChange: 'required' }
    const stream = await opened(watch(db, [{ $changeStreamSplitLargeEvent: {} }], options))
    await db.collection('test').updateOne({ _id: 'aaa' } as Document, { $set: { n: 1 } })
    const first = await stream.next()
    const of = (first.splitEvent as { of: number }).of
    expect(first.splitEvent).toEqual({ fragment: 1, of })
    expect(of).toBeGreaterThanOrEqual(2)
    const fragments = [first]
    for (let i = 2; i <= of; i++) fragments.push(await stream.next())
    expect(fragments.map((f) => f.splitEvent)).toEqual(fragments.map((_, i) => ({ fragment: i + 1, of })))
    expect(new Set(fragments.map((f) => JSON.stringify(f._id))).size).toBe(of)
    const whole: Document = {}
    for (const fragment of fragments) Object.assign(whole, fragment)
    expect(whole.operationType).toBe('update')
    expect(whole.fullDocument).toEqual({ _id: 'aaa', a: big, n: 1 })
    expect(whole.fullDocumentBeforeChange).toEqual({ _id: 'aaa', a: big })
    expect(whole.updateDescription.updatedFields).toEqual({ n: 1 })

    // Resuming from the second-last fragment gives the last one.
    const resumed = watch(db, [{ $changeStreamSplitLargeEvent: {} }], {
      ...options,
      resumeAfter: fragments.at(-2)?._id,
    })
    const next = await resumed.next()
    expect(next.splitEvent).toEqual({ fragment: of, of })
    expect(next._id).toEqual(fragments.at(-1)?._id)
    // Without the split stage, a fragment token is not a resume point (280).
    const unsplit = watch(db, [], { ...options, resumeAfter: fragments.at(-2)?._id })
    await expect(unsplit.tryNext()).rejects.toMatchObject({ code: 280 })
  })
})

describe('8. error labels the server adds to a change stream getMore', () => {
  const resumable = [6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 63, 150, 13388, 234, 133, 43]
  test.each(resumable)('code %i: labelled ResumableChangeStreamError, the driver resumes', async (code) => {
    const { sim, db } = await setup()
    const stream = await opened(watch(db))
    sim.fault({ on: 'getMore', error: { code } })
    await db.collection('test').insertOne({ x: 1 })
    expect((await stream.next()).fullDocument).toMatchObject({ x: 1 })
    const opens = aggregatesOf(sim)
    expect(opens).toHaveLength(2)
    expect(opens[1]?.resumeAfter ?? opens[1]?.startAfter).toBeDefined()
  })

  test.each([280, 286])(
    'code %i: labelled NonResumableChangeStreamError, the error reaches the caller',
    async (code) => {
      const { sim, db } = await setup()
      const stream = await opened(watch(db))
      sim.fault({ on: 'getMore', error: { code } })
      await expect(stream.next()).rejects.toMatchObject({
        code,
        errorLabels: ['NonResumableChangeStreamError'],
      })
      expect(aggregatesOf(sim)).toHaveLength(1)
    },
  )

  test('ElectionInProgress (216) is not resumable; neither is a resumable code sent without label', async () => {
    const { sim, db } = await setup()
    const stream = await opened(watch(db))
    sim.fault({ on: 'getMore', error: { code: 216 } })
    await expect(stream.next()).rejects.toMatchObject({ code: 216 })
    const other = await opened(watch(db))
    // A fault raised before the command runs (failCommand) carries no label.
    sim.fault({ on: 'getMore', error: { code: 6, labels: [] } })
    await expect(other.next()).rejects.toMatchObject({ code: 6 })
    expect(aggregatesOf(sim)).toHaveLength(2)
  })
})

describe('9. resume tokens are checked against the stream', () => {
  test('a change token from another collection: 280 "resume token was not found"', async () => {
    const { db } = await setup()
    const other = await opened(watch(db, [], {}, 'other'))
    await db.collection('other').insertOne({ x: 1 })
    const token = (await other.next())._id
    const stream = watch(db, [], { startAfter: token })
    const error = (await stream.tryNext().catch((e: unknown) => e)) as MongoServerError
    expect(error).toMatchObject({ code: 280, errorLabels: ['NonResumableChangeStreamError'] })
    expect(error.message).toMatch(/resume token was not found/)
    // A database stream has that change: the same token resumes it.
    const wide = db.watch<Document, Document>([], { startAfter: token, maxAwaitTimeMS: 50 })
    cleanups.push(() => wide.close())
    await db.collection('test').insertOne({ y: 1 })
    expect((await wide.next()).ns).toEqual({ db: 'conformance', coll: 'test' })
  })

  test('a post-batch token (a position between changes) resumes any stream', async () => {
    const { db } = await setup()
    const other = await opened(watch(db, [], {}, 'other'))
    const position = other.resumeToken
    const stream = watch(db, [], { startAfter: position })
    await db.collection('test').insertOne({ y: 1 })
    expect((await stream.next()).fullDocument).toMatchObject({ y: 1 })
  })

  test('a malformed token: 260 InvalidResumeToken', async () => {
    const { db } = await setup()
    const stream = watch(db, [], { resumeAfter: { _data: 'zz' } })
    await expect(stream.tryNext()).rejects.toMatchObject({ code: 260 })
  })
})

describe('10. updateDescription as a 5.0+ server writes it', () => {
  async function describeUpdate(
    doc: Document,
    update: Document | Document[],
    options: Document = {},
  ): Promise<Document | undefined> {
    const { db } = await setup()
    await db.collection('test').insertOne({ _id: 1, ...doc } as Document)
    const stream = await opened(watch(db, [], options))
    await db.collection('test').updateOne({ _id: 1 } as Document, update)
    return (await stream.next()).updateDescription as Document | undefined
  }

  test('operator updates: dotted paths, appended elements by index, removed fields', async () => {
    expect(
      await describeUpdate(
        { a: { b: 0, c: 1 }, arr: [1, 2], gone: 1 },
        {
          $set: { 'a.b': 5 },
          $push: { arr: 3 },
          $unset: { gone: '' },
        },
      ),
    ).toEqual({ updatedFields: { 'a.b': 5, 'arr.2': 3 }, removedFields: ['gone'], truncatedArrays: [] })
  })

  test('pipeline updates are diffed field by field; a shortened array is a truncation', async () => {
    expect(
      await describeUpdate({ sub: { x: 1, y: 1 }, arr: [1, 2, 3, 4], same: 1 }, [
        { $set: { sub: { x: 1, y: 2 }, arr: { $slice: ['$arr', 2] }, same: 1 } },
        { $unset: 'sub.x' },
      ]),
    ).toEqual({
      updatedFields: { 'sub.y': 2 },
      removedFields: ['sub.x'],
      truncatedArrays: [{ field: 'arr', newSize: 2 }],
    })
  })

  test('disambiguatedPaths: only with showExpandedEvents, array indexes as integers', async () => {
    expect(await describeUpdate({ a: { 1: 1 } }, { $set: { 'a.1': 2 } })).not.toHaveProperty('disambiguatedPaths')
    expect(
      (await describeUpdate({ a: { 1: 1 } }, { $set: { 'a.1': 2 } }, { showExpandedEvents: true }))?.disambiguatedPaths,
    ).toEqual({ 'a.1': ['a', '1'] })
    const indexed = await describeUpdate({ a: [{ 1: 1 }] }, { $set: { 'a.0.1': 2 } }, { showExpandedEvents: true })
    expect(indexed?.disambiguatedPaths).toEqual({ 'a.0.1': ['a', 0, '1'] })
    // Plain paths need no disambiguation.
    expect(
      (await describeUpdate({ b: 1 }, { $set: { b: 2 } }, { showExpandedEvents: true }))?.disambiguatedPaths,
    ).toEqual({})
  })
})

describe('12. DDL events, idle cursors, TTL', () => {
  test('renameCollection: rename (with to) then invalidate on the source stream; a database stream goes on', async () => {
    const { client, db } = await setup()
    await db.collection('test').insertOne({ a: 1 })
    await db.collection('foo').insertOne({ b: 1 })
    const stream = await opened(watch(db))
    const wide = db.watch<Document, Document>([], { maxAwaitTimeMS: 50 })
    cleanups.push(() => wide.close())
    await wide.tryNext()
    await client.db('admin').command({ renameCollection: 'conformance.test', to: 'conformance.foo', dropTarget: true })
    const rename = await stream.next()
    expect(rename).toMatchObject({
      operationType: 'rename',
      ns: { db: 'conformance', coll: 'test' },
      to: { db: 'conformance', coll: 'foo' },
    })
    expect(rename).not.toHaveProperty('operationDescription')
    expect((await stream.next()).operationType).toBe('invalidate')
    await expect(stream.next()).rejects.toThrow(/closed/)
    // The database stream: the dropped target, then the rename; no invalidate.
    expect((await wide.next()).operationType).toBe('drop')
    expect((await wide.next()).operationType).toBe('rename')
    await db.collection('foo').insertOne({ c: 1 })
    expect((await wide.next()).ns).toEqual({ db: 'conformance', coll: 'foo' })
    expect(await db.collection('foo').countDocuments()).toBe(2)
  })

  test('showExpandedEvents: collectionUUID, createIndexes, dropIndexes, modify, create, rename with dropTarget', async () => {
    const { client, db } = await setup()
    await db.createCollection('foo')
    await db.collection('test').insertOne({ seed: 1 })
    const plain = await opened(watch(db))
    const expanded = await opened(watch(db, [], { showExpandedEvents: true }))
    const wide = db.watch<Document, Document>([], { maxAwaitTimeMS: 50, showExpandedEvents: true })
    cleanups.push(() => wide.close())
    await wide.tryNext()
    await db.collection('test').insertOne({ a: 1 })
    await db.collection('test').createIndex({ x: 1 }, { name: 'x_1' })
    await db.collection('test').dropIndex('x_1')
    await db.command({ collMod: 'test' })
    await db.createCollection('bar')
    await client.db('admin').command({ renameCollection: 'conformance.test', to: 'conformance.foo', dropTarget: true })

    const insert = await expanded.next()
    expect(insert).toMatchObject({ operationType: 'insert', ns: { db: 'conformance', coll: 'test' } })
    const uuid = insert.collectionUUID
    expect(uuid).toBeDefined()
    const indexes = await expanded.next()
    expect(indexes).toMatchObject({ operationType: 'createIndexes', collectionUUID: uuid })
    expect(indexes.operationDescription.indexes).toEqual([expect.objectContaining({ name: 'x_1', key: { x: 1 } })])
    expect(await expanded.next()).toMatchObject({
      operationType: 'dropIndexes',
      operationDescription: { indexes: [expect.objectContaining({ name: 'x_1' })] },
    })
    expect(await expanded.next()).toMatchObject({ operationType: 'modify', collectionUUID: uuid })
    const rename = await expanded.next()
    expect(rename).toMatchObject({
      operationType: 'rename',
      to: { db: 'conformance', coll: 'foo' },
      collectionUUID: uuid,
    })
    expect(rename.operationDescription.dropTarget).toBeDefined()

    // Without the option: only the insert, then rename and invalidate.
    expect((await plain.next()).operationType).toBe('insert')
    expect((await plain.next()).operationType).toBe('rename')
    expect((await plain.next()).operationType).toBe('invalidate')
    // A database stream sees collections being created.
    const kinds: string[] = []
    for (let i = 0; i < 7; i++) kinds.push((await wide.next()).operationType)
    expect(kinds).toEqual(['insert', 'createIndexes', 'dropIndexes', 'modify', 'create', 'drop', 'rename'])
  })

  test('an idle cursor is killed after cursorTimeoutMs: the next getMore gets 43 and the driver resumes', async () => {
    const sim = await startMongoSim({ cursorTimeoutMs: 100 })
    cleanups.push(() => sim.close())
    const client = new MongoClient(sim.uri, { heartbeatFrequencyMS: 500, serverSelectionTimeoutMS: 3000 })
    cleanups.push(() => client.close())
    const db = client.db('conformance')
    const stream = await opened(watch(db))
    expect(sim.openCursors).toBe(1)
    await waitUntil(() => sim.openCursors === 0)
    await db.collection('test').insertOne({ x: 1 })
    expect((await stream.next()).fullDocument).toMatchObject({ x: 1 })
    expect(aggregatesOf(sim)).toHaveLength(2)
    // A cursor in a blocked getMore is in use, not idle.
    const busy = db.collection('test').watch([], { maxAwaitTimeMS: 400 })
    cleanups.push(() => busy.close())
    expect(await busy.tryNext()).toBeNull()
    const waiting = busy.tryNext()
    await waitUntil(() => sim.commands.filter((c) => c.name === 'getMore').length >= 2)
    expect(await waiting).toBeNull()
  })

  test('TTL indexes expire documents on the monitor period, not before each command', async () => {
    for (const [ttlMonitorMs, expected] of [
      [60_000, 2],
      [20, 1],
    ] as const) {
      const sim = await startMongoSim({ ttlMonitorMs })
      cleanups.push(() => sim.close())
      const client = new MongoClient(sim.uri, { heartbeatFrequencyMS: 500, serverSelectionTimeoutMS: 3000 })
      cleanups.push(() => client.close())
      const sessions = client.db('conformance').collection('sessions')
      await sessions.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 })
      await sessions.insertMany([
        { expiresAt: new Date(Date.now() - 1000) },
        { expiresAt: new Date(Date.now() + 60_000) },
      ])
      if (expected === 1) await waitUntil(() => sim.documents('conformance', 'sessions').length === 1)
      expect(await sessions.countDocuments()).toBe(expected)
    }
  })
})

async function waitUntil(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('11. transactions', () => {
  test('changes arrive at commit, with one clusterTime, lsid and txnNumber; an abort logs nothing and undoes', async () => {
    const { client, db } = await setup()
    const test = db.collection('test')
    await test.insertOne({ _id: 'kept', v: 0 } as Document)
    const stream = await opened(watch(db))
    const session = client.startSession()
    cleanups.push(() => session.endSession())
    session.startTransaction()
    await test.insertOne({ _id: 'a' } as Document, { session })
    await test.insertOne({ _id: 'b' } as Document, { session })
    await test.updateOne({ _id: 'kept' } as Document, { $set: { v: 1 } }, { session })
    expect(await stream.tryNext()).toBeNull()
    await session.commitTransaction()
    const changes = [await stream.next(), await stream.next(), await stream.next()]
    expect(changes.map((c) => c.operationType)).toEqual(['insert', 'insert', 'update'])
    expect(new Set(changes.map((c) => String(c.clusterTime))).size).toBe(1)
    for (const change of changes) {
      expect(change.lsid).toEqual(expect.objectContaining({ id: expect.anything() }))
      expect(Number(change.txnNumber)).toBeGreaterThan(0)
    }
    expect(new Set(changes.map((c) => JSON.stringify(c._id))).size).toBe(3)

    session.startTransaction()
    await test.insertOne({ _id: 'c' } as Document, { session })
    await test.deleteOne({ _id: 'a' } as Document, { session })
    await test.updateOne({ _id: 'kept' } as Document, { $set: { v: 2 } }, { session })
    await session.abortTransaction()
    await test.insertOne({ _id: 'after' } as Document)
    const next = await stream.next()
    expect(next.documentKey).toEqual({ _id: 'after' })
    expect(next).not.toHaveProperty('lsid')
    expect(next.clusterTime.greaterThan(changes[0]?.clusterTime)).toBe(true)
    expect((await test.find().sort({ _id: 1 }).toArray()).map((d) => [d._id, d.v])).toEqual([
      ['a', undefined],
      ['after', undefined],
      ['b', undefined],
      ['kept', 1],
    ])
  })
})

describe('12. hello with topologyVersion', () => {
  test('the monitor streams awaitable hello with exhaust; commands keep working', async () => {
    const sim = await startMongoSim({ streamingHello: true })
    cleanups.push(() => sim.close())
    const client = new MongoClient(sim.uri, { heartbeatFrequencyMS: 100, serverSelectionTimeoutMS: 3000 })
    cleanups.push(() => client.close())
    const awaited: boolean[] = []
    client.on('serverHeartbeatSucceeded', (event) => awaited.push(event.awaited))
    await client.connect()
    const hello = await client.db('admin').command({ hello: 1 })
    expect(hello.topologyVersion).toEqual({ processId: expect.anything(), counter: 0 })
    await waitUntil(() => awaited.filter(Boolean).length >= 3)
    // One awaitable hello was sent; the rest came as a stream of replies.
    const sent = sim.commands.filter((c) => c.name === 'hello' && c.body.topologyVersion !== undefined)
    expect(sent.length).toBeGreaterThanOrEqual(1)
    expect(sent.length).toBeLessThan(awaited.filter(Boolean).length)
    expect(sent[0]?.body.maxAwaitTimeMS).toBe(100)
    await client.db('conformance').collection('test').insertOne({ x: 1 })
    expect(await client.db('conformance').collection('test').countDocuments()).toBe(1)
  })
})
