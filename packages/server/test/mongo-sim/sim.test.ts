import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { BSON, type Document, MongoClient, type ObjectId, type ResumeToken, Timestamp } from 'mongodb'
import { afterEach, describe, expect, test } from 'vitest'
import { decodeRequest, encodeReply, FrameReader, OP_MSG, OP_REPLY } from './framing.js'
import { type MongoSim, type MongoSimOptions, startMongoSim } from './index.js'

const cleanups: (() => Promise<unknown> | unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Documents of the test collection: any fields, any `_id` type. */
type Post = Document & { _id?: string | ObjectId }

async function setup(options?: MongoSimOptions) {
  const sim = await startMongoSim(options)
  cleanups.push(() => sim.close())
  const client = new MongoClient(sim.uri, { heartbeatFrequencyMS: 500, serverSelectionTimeoutMS: 3000 })
  cleanups.push(() => client.close())
  await client.connect()
  const db = client.db('app')
  return { sim, client, db, posts: db.collection<Post>('posts') }
}

/** Registers a change stream for closing after the test. */
function closing<T extends { close(): Promise<void> }>(stream: T): T {
  cleanups.push(() => stream.close())
  return stream
}

/** The `$changeStream` stage of every change-stream aggregate the simulator received. */
function streamOpens(sim: MongoSim): Document[] {
  return sim.commands
    .filter((c) => c.name === 'aggregate')
    .map((c) => (c.body.pipeline as Document[])[0]?.$changeStream as Document | undefined)
    .filter((stage): stage is Document => stage !== undefined)
}

async function waitFor(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('connection and CRUD', () => {
  test('the driver sees a one-member replica set primary', async () => {
    const { sim, client } = await setup()
    expect(sim.uri).toBe(`mongodb://127.0.0.1:${sim.port}/?replicaSet=rs0`)
    const hello = await client.db('admin').command({ hello: 1 })
    expect(hello).toMatchObject({ setName: 'rs0', isWritablePrimary: true, hosts: [`127.0.0.1:${sim.port}`] })
    expect(await client.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 })
    // The handshake came as legacy OP_QUERY isMaster, then OP_MSG commands.
    expect(sim.commands[0]?.name.toLowerCase()).toBe('ismaster')
    expect(sim.commands.some((c) => c.name === 'ping' && c.db === 'admin')).toBe(true)
  })

  test('insert, find, update, delete, count and aggregate round trip', async () => {
    const { sim, db, posts } = await setup()
    await posts.insertMany([1, 2, 3, 4, 5].map((n) => ({ n, topic: n % 2 ? 'odd' : 'even' })))
    const firstTwo = await posts
      .find({ n: { $gt: 1 } }, { projection: { _id: 0, n: 1 }, sort: { n: -1 }, skip: 1, limit: 2 })
      .toArray()
    expect(firstTwo).toEqual([{ n: 4 }, { n: 3 }])
    // batchSize 2 over 5 documents needs getMores on a plain cursor.
    const all = await posts.find({}, { batchSize: 2 }).toArray()
    expect(all.map((d) => d.n)).toEqual([1, 2, 3, 4, 5])
    expect(sim.commands.filter((c) => c.name === 'getMore' && c.body.collection === 'posts').length).toBe(2)
    expect(Object.keys(all[0]!)[0]).toBe('_id')

    expect(await posts.updateOne({ n: 1 }, { $set: { title: 'one' }, $inc: { n: 10 } })).toMatchObject({
      matchedCount: 1,
      modifiedCount: 1,
    })
    expect(await posts.updateMany({ topic: 'even' }, { $set: { seen: true } })).toMatchObject({ modifiedCount: 2 })
    const upsert = await posts.updateOne(
      { slug: 'x' },
      { $set: { n: 6 }, $setOnInsert: { created: true } },
      { upsert: true },
    )
    expect(upsert.upsertedId).toBeTruthy()
    expect(await posts.findOne({ slug: 'x' }, { projection: { _id: 0 } })).toEqual({ slug: 'x', n: 6, created: true })
    await posts.replaceOne({ slug: 'x' }, { slug: 'x', n: 7 })
    expect(await posts.findOne({ slug: 'x' }, { projection: { _id: 0 } })).toEqual({ slug: 'x', n: 7 })

    expect(await posts.countDocuments({ topic: 'odd' })).toBe(3)
    expect(await posts.estimatedDocumentCount()).toBe(6)
    expect(await posts.distinct('topic')).toEqual(['odd', 'even'])
    const grouped = await posts.aggregate([{ $match: { topic: { $exists: true } } }, { $count: 'total' }]).toArray()
    expect(grouped).toEqual([{ total: 5 }])

    expect((await posts.deleteOne({ n: 11 })).deletedCount).toBe(1)
    expect((await posts.deleteMany({ topic: 'even' })).deletedCount).toBe(2)
    expect(sim.documents('app', 'posts').map((d) => d.n)).toEqual([3, 5, 7])

    const names = (await db.listCollections().toArray()).map((c) => c.name)
    expect(names).toEqual(['posts'])
    expect(await posts.drop()).toBe(true)
    expect(sim.documents('app', 'posts')).toEqual([])
  })

  test('unique indexes answer 11000, TTL indexes expire on the monitor period', async () => {
    const { sim, db, posts } = await setup({ ttlMonitorMs: 50 })
    await posts.createIndex({ key: 1 }, { unique: true })
    const indexes = await posts.listIndexes().toArray()
    expect(indexes.map((i) => [i.name, i.unique ?? false])).toEqual([
      ['_id_', false],
      ['key_1', true],
    ])
    await posts.insertOne({ key: 'a' })
    await expect(posts.insertOne({ key: 'a' })).rejects.toMatchObject({ code: 11000, keyValue: { key: 'a' } })
    await posts.insertOne({ _id: 'b', key: 'b' })
    await expect(posts.updateOne({ key: 'b' }, { $set: { key: 'a' } })).rejects.toMatchObject({ code: 11000 })
    await expect(posts.insertOne({ _id: 'b', key: 'c' })).rejects.toMatchObject({ code: 11000 })
    expect(await posts.countDocuments()).toBe(2)

    const dupes = db.collection('dupes')
    await dupes.insertMany([{ k: 1 }, { k: 1 }])
    await expect(dupes.createIndex({ k: 1 }, { unique: true })).rejects.toMatchObject({ code: 11000 })

    const sessions = db.collection('sessions')
    await sessions.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 })
    await sessions.insertMany([
      { expiresAt: new Date(Date.now() - 1000) },
      { expiresAt: new Date(Date.now() + 60_000) },
    ])
    await waitFor(() => sim.documents(db.databaseName, 'sessions').length === 1)
    expect(await sessions.countDocuments()).toBe(1)
  })

  test('findAndModify $inc hands out a gap-free sequence under concurrency; conditional upserts lock', async () => {
    const { db } = await setup()
    const counters = db.collection<{ _id: string; n: number }>('counters')
    const values = await Promise.all(
      Array.from({ length: 40 }, () =>
        counters.findOneAndUpdate({ _id: 'seq' }, { $inc: { n: 1 } }, { upsert: true, returnDocument: 'after' }),
      ),
    )
    expect(values.map((v) => v?.n).sort((a, b) => a! - b!)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))

    // A lease: take it only when free or expired. A held lease makes the upsert collide on _id.
    const leases = db.collection<{ _id: string; owner: string; expiresAt: Date }>('leases')
    const take = (owner: string, now: Date) =>
      leases.findOneAndUpdate(
        { _id: 'stream', $or: [{ owner }, { expiresAt: { $lt: now } }] },
        { $set: { owner, expiresAt: new Date(now.getTime() + 5000) } },
        { upsert: true, returnDocument: 'after' },
      )
    const now = new Date()
    expect((await take('a', now))?.owner).toBe('a')
    await expect(take('b', now)).rejects.toMatchObject({ code: 11000 })
    expect((await take('b', new Date(now.getTime() + 6000)))?.owner).toBe('b')
    const removed = await leases.findOneAndDelete({ _id: 'stream' })
    expect(removed?.owner).toBe('b')
  })
})

describe('change streams', () => {
  test('startAtOperationTime includes the change at that time; older than the history floor is 286', async () => {
    const { sim, posts } = await setup()
    const stream = closing(posts.watch<Document, Document>([], { maxAwaitTimeMS: 50 }))
    await stream.tryNext()
    await posts.insertMany([{ n: 1 }, { n: 2 }, { n: 3 }])
    await stream.next()
    const second = await stream.next()
    const from = closing(posts.watch<Document, Document>([], { startAtOperationTime: second.clusterTime }))
    expect([(await from.next()).fullDocument.n, (await from.next()).fullDocument.n]).toEqual([2, 3])
    expect(streamOpens(sim).at(-1)).toEqual({ startAtOperationTime: second.clusterTime })
    sim.truncateHistory()
    const lost = closing(posts.watch([], { startAtOperationTime: second.clusterTime }))
    await expect(lost.next()).rejects.toMatchObject({ code: 286 })
  })

  test('iterator: inserts, updates, replaces and deletes in every fullDocument mode', async () => {
    const { db, posts } = await setup()
    // Images need the collection option, as on a real server (without it: null or error 47).
    await db.createCollection('posts', { changeStreamPreAndPostImages: { enabled: true } })
    const open = (options: Document) => closing(posts.watch<Document, Document>([], { maxAwaitTimeMS: 50, ...options }))
    const streams = {
      default: open({}),
      updateLookup: open({ fullDocument: 'updateLookup' }),
      whenAvailable: open({ fullDocument: 'whenAvailable' }),
      required: open({ fullDocument: 'required' }),
      before: open({ fullDocumentBeforeChange: 'whenAvailable' }),
    }
    for (const stream of Object.values(streams)) expect(await stream.tryNext()).toBeNull()

    await posts.insertOne({ _id: 'k', v: 1 })
    await posts.updateOne({ _id: 'k' }, { $set: { v: 2 } })
    await posts.replaceOne({ _id: 'k' }, { v: 3 })
    await posts.deleteOne({ _id: 'k' })

    const read = async (stream: (typeof streams)['default']) => [
      await stream.next(),
      await stream.next(),
      await stream.next(),
      await stream.next(),
    ]
    const plain = await read(streams.default)
    expect(plain.map((c) => c.operationType)).toEqual(['insert', 'update', 'replace', 'delete'])
    expect(plain[0]).toMatchObject({
      fullDocument: { _id: 'k', v: 1 },
      ns: { db: 'app', coll: 'posts' },
      documentKey: { _id: 'k' },
    })
    expect(plain[0]!.clusterTime).toBeInstanceOf(Timestamp)
    expect(plain[0]!.wallTime).toBeInstanceOf(Date)
    expect(plain[1]!.fullDocument).toBeUndefined()
    expect(plain[1]!.updateDescription).toEqual({ updatedFields: { v: 2 }, removedFields: [], truncatedArrays: [] })
    expect(plain[2]!.fullDocument).toEqual({ _id: 'k', v: 3 })
    expect(plain[3]).not.toHaveProperty('fullDocument')
    // Tokens sort in log order.
    const tokens = plain.map((c) => (c._id as { _data: string })._data)
    expect([...tokens].sort()).toEqual(tokens)

    // updateLookup reads the current document, which is gone by now; post-images are kept.
    expect((await read(streams.updateLookup))[1]!.fullDocument).toBeNull()
    expect((await read(streams.whenAvailable))[1]!.fullDocument).toEqual({ _id: 'k', v: 2 })
    expect((await read(streams.required))[1]!.fullDocument).toEqual({ _id: 'k', v: 2 })
    const before = await read(streams.before)
    expect(before.map((c) => c.fullDocumentBeforeChange)).toEqual([
      undefined,
      { _id: 'k', v: 1 },
      { _id: 'k', v: 2 },
      { _id: 'k', v: 3 },
    ])

    await posts.insertOne({ _id: 'm', v: 1 })
    await posts.updateOne({ _id: 'm' }, { $inc: { v: 1 } })
    await streams.updateLookup.next()
    expect((await streams.updateLookup.next()).fullDocument).toEqual({ _id: 'm', v: 2 })
  })

  test("'change' listener mode receives every change and resumes after a dropped connection", async () => {
    const { sim, posts } = await setup()
    const stream = closing(posts.watch<Document, Document>([], { maxAwaitTimeMS: 100 }))
    const got: number[] = []
    stream.on('change', (change) => got.push(change.fullDocument.n))
    await once(stream, 'resumeTokenChanged')
    await posts.insertMany([{ n: 1 }, { n: 2 }])
    await waitFor(() => got.length === 2)
    sim.fault({ on: 'getMore', drop: true })
    await posts.insertOne({ n: 3 })
    await posts.insertOne({ n: 4 })
    await waitFor(() => got.length === 4)
    expect(got).toEqual([1, 2, 3, 4])
    expect(streamOpens(sim)).toHaveLength(2)
  })

  test('database and cluster-wide streams', async () => {
    const { sim, client, db } = await setup()
    const dbStream = closing(db.watch<Document, Document>([], { maxAwaitTimeMS: 50 }))
    const cluster = closing(client.watch<Document, Document>([], { maxAwaitTimeMS: 50 }))
    await dbStream.tryNext()
    await cluster.tryNext()
    await db.collection('a').insertOne({ x: 1 })
    await client.db('other').collection('b').insertOne({ x: 2 })
    await db.collection('c').insertOne({ x: 3 })
    expect([(await dbStream.next()).ns, (await dbStream.next()).ns]).toEqual([
      { db: 'app', coll: 'a' },
      { db: 'app', coll: 'c' },
    ])
    const clusterNs = [await cluster.next(), await cluster.next(), await cluster.next()].map((c) => c.ns.coll)
    expect(clusterNs).toEqual(['a', 'b', 'c'])
    const opens = sim.commands.filter((c) => c.name === 'aggregate')
    expect(opens.map((c) => [c.db, c.body.aggregate])).toEqual([
      ['app', 1],
      ['admin', 1],
    ])
    expect(streamOpens(sim)[1]).toMatchObject({ allChangesForCluster: true })
    expect(sim.commands.some((c) => c.name === 'getMore' && c.body.collection === '$cmd.aggregate')).toBe(true)
  })

  test('$match and $project after $changeStream; changing _id is fatal', async () => {
    const { posts } = await setup()
    const stream = closing(
      posts.watch<Document, Document>(
        [{ $match: { 'fullDocument.topic': 'news' } }, { $project: { operationType: 1, 'fullDocument.title': 1 } }],
        { maxAwaitTimeMS: 50 },
      ),
    )
    await stream.tryNext()
    await posts.insertMany([
      { topic: 'sport', title: 'a' },
      { topic: 'news', title: 'b' },
    ])
    const change = await stream.next()
    expect(change).toEqual({ _id: expect.any(Object), operationType: 'insert', fullDocument: { title: 'b' } })

    const broken = closing(posts.watch([{ $project: { _id: 0 } }], { maxAwaitTimeMS: 50 }))
    await broken.tryNext()
    await posts.insertOne({ topic: 'x' })
    await expect(broken.next()).rejects.toMatchObject({ code: 280 })
  })

  test('a quiet filtered stream still advances its post-batch resume token', async () => {
    const { db, posts } = await setup()
    const stream = closing(
      posts.watch<Document, Document>([{ $match: { 'fullDocument.topic': 'rare' } }], { maxAwaitTimeMS: 50 }),
    )
    expect(await stream.tryNext()).toBeNull()
    const t0 = stream.resumeToken as { _data: string }
    await posts.insertMany(Array.from({ length: 5 }, (_, i) => ({ topic: 'common', i })))
    expect(await stream.tryNext()).toBeNull()
    const t1 = stream.resumeToken as { _data: string }
    expect(t1._data > t0._data).toBe(true)
    expect(await stream.tryNext()).toBeNull()
    expect(stream.resumeToken).toEqual(t1)
    // Writes to other collections move it too.
    await db.collection('other').insertOne({ topic: 'rare' })
    expect(await stream.tryNext()).toBeNull()
    const t2 = stream.resumeToken as { _data: string }
    expect(t2._data > t1._data).toBe(true)

    // The advanced token skips the filtered-out changes and nothing after it is lost.
    await posts.insertOne({ topic: 'rare' })
    const resumed = closing(posts.watch<Document, Document>([], { resumeAfter: t2, maxAwaitTimeMS: 50 }))
    expect((await resumed.next()).fullDocument.topic).toBe('rare')
    expect((await stream.next()).fullDocument.topic).toBe('rare')
  })

  test('a dropped getMore resumes with resumeAfter the last token: nothing lost or repeated', async () => {
    const { sim, posts } = await setup()
    const stream = closing(posts.watch<Document, Document>([], { maxAwaitTimeMS: 100 }))
    await stream.tryNext()
    await posts.insertMany([{ n: 1 }, { n: 2 }])
    const seen = [await stream.next(), await stream.next()]
    const token = stream.resumeToken
    expect(token).toEqual(seen[1]!._id)
    sim.fault({ on: 'getMore', drop: true })
    await posts.insertOne({ n: 3 })
    seen.push(await stream.next())
    await posts.insertOne({ n: 4 })
    seen.push(await stream.next())
    expect(seen.map((c) => c.fullDocument.n)).toEqual([1, 2, 3, 4])
    const opens = streamOpens(sim)
    expect(opens).toHaveLength(2)
    expect(opens[1]).toEqual({ resumeAfter: token })
  })

  test('a labelled ResumableChangeStreamError resumes with startAfter until a change arrives', async () => {
    const { sim, posts } = await setup()
    const first = closing(posts.watch<Document, Document>([], { maxAwaitTimeMS: 50 }))
    await first.tryNext()
    await posts.insertOne({ n: 1 })
    const start: ResumeToken = (await first.next())._id
    await first.close()

    const stream = closing(posts.watch<Document, Document>([], { startAfter: start, maxAwaitTimeMS: 50 }))
    expect(await stream.tryNext()).toBeNull()
    // The empty first batch's post-batch token (a high-water mark) is the cached token now.
    const highWaterMark = stream.resumeToken
    sim.fault({ on: 'getMore', error: { code: 91, message: 'shutting down', labels: ['ResumableChangeStreamError'] } })
    await posts.insertOne({ n: 2 })
    expect((await stream.next()).fullDocument.n).toBe(2)
    await posts.insertOne({ n: 3 })
    expect((await stream.next()).fullDocument.n).toBe(3)
    const opens = streamOpens(sim)
    expect(opens.slice(1)).toEqual([{ startAfter: start }, { startAfter: highWaterMark }])
  })

  test('CursorNotFound (43) resumes; an unlabelled error closes the stream', async () => {
    const { sim, posts } = await setup()
    const stream = closing(posts.watch<Document, Document>([], { maxAwaitTimeMS: 50 }))
    await stream.tryNext()
    await posts.insertOne({ n: 1 })
    const one = await stream.next()
    sim.fault({ on: 'getMore', error: { code: 43 } })
    await posts.insertOne({ n: 2 })
    expect((await stream.next()).fullDocument.n).toBe(2)
    expect(streamOpens(sim)[1]).toEqual({ resumeAfter: one._id })

    // Explicitly unlabelled (a 4.4+ server would label 10107 resumable itself).
    sim.fault({ on: 'getMore', error: { code: 10107, message: 'not primary', labels: [] } })
    await expect(stream.next()).rejects.toMatchObject({ code: 10107, codeName: 'NotWritablePrimary' })
    expect(stream.closed).toBe(true)
    expect(streamOpens(sim)).toHaveLength(2)
  })

  test('lost history (286) reaches the caller, after truncateHistory and past historyLimit', async () => {
    const { sim, posts } = await setup({ historyLimit: 3 })
    const stream = closing(posts.watch<Document, Document>([], { maxAwaitTimeMS: 50 }))
    await stream.tryNext()
    const tokens: ResumeToken[] = []
    for (const n of [1, 2, 3, 4, 5]) {
      await posts.insertOne({ n })
      tokens.push((await stream.next())._id)
    }

    // Only the last 3 changes are kept: resuming after the 2nd still has everything after it.
    const fromSecond = closing(posts.watch<Document, Document>([], { resumeAfter: tokens[1] }))
    expect((await fromSecond.next()).fullDocument.n).toBe(3)
    const fromFirst = closing(posts.watch([], { resumeAfter: tokens[0] }))
    await expect(fromFirst.next()).rejects.toMatchObject({ code: 286, codeName: 'ChangeStreamHistoryLost' })

    sim.truncateHistory()
    await expect(stream.next()).rejects.toMatchObject({ code: 286 })
    expect(stream.closed).toBe(true)
    const fromLast = closing(posts.watch([], { resumeAfter: tokens[4] }))
    await expect(fromLast.next()).rejects.toMatchObject({ code: 286 })
  })

  test('invalidate ends a collection stream; startAfter passes it, resumeAfter cannot', async () => {
    const { sim, db, posts } = await setup()
    const stream = closing(posts.watch<Document, Document>([], { maxAwaitTimeMS: 50 }))
    const dbStream = closing(db.watch<Document, Document>([], { maxAwaitTimeMS: 50 }))
    await stream.tryNext()
    await dbStream.tryNext()
    await posts.insertOne({ n: 1 })
    sim.invalidate('app', 'posts')
    expect((await stream.next()).operationType).toBe('insert')
    const invalidate = await stream.next()
    expect(invalidate.operationType).toBe('invalidate')
    await expect(stream.next()).rejects.toThrow(/ChangeStream is closed/)

    const after = closing(posts.watch<Document, Document>([], { startAfter: invalidate._id, maxAwaitTimeMS: 50 }))
    await posts.insertOne({ n: 2 })
    expect((await after.next()).fullDocument.n).toBe(2)
    const refused = closing(posts.watch([], { resumeAfter: invalidate._id }))
    await expect(refused.next()).rejects.toMatchObject({ code: 260 })
    // A database stream is not closed by a collection's invalidate.
    expect([(await dbStream.next()).fullDocument.n, (await dbStream.next()).fullDocument.n]).toEqual([1, 2])

    // drop: the collection stream sees drop, then invalidate.
    await after.tryNext()
    await posts.drop()
    expect([(await after.next()).operationType, (await after.next()).operationType]).toEqual(['drop', 'invalidate'])
  })

  test('cursor id 0 closes the stream; dropConnections during a blocked getMore resumes', async () => {
    const { sim, posts } = await setup()
    const closed = closing(posts.watch<Document, Document>([], { maxAwaitTimeMS: 50 }))
    await closed.tryNext()
    sim.fault({ on: 'getMore', cursorId0: true })
    await posts.insertOne({ n: 1 })
    expect((await closed.next()).fullDocument.n).toBe(1)
    await expect(closed.next()).rejects.toThrow(/ChangeStream is closed/)

    const stream = closing(posts.watch<Document, Document>([], { maxAwaitTimeMS: 10_000 }))
    const getMores = sim.commands.filter((c) => c.name === 'getMore').length
    const pending = stream.next()
    await waitFor(() => sim.commands.filter((c) => c.name === 'getMore').length > getMores)
    sim.dropConnections()
    await posts.insertOne({ n: 2 })
    expect((await pending).fullDocument.n).toBe(2)
    expect(streamOpens(sim).at(-1)).toEqual({ resumeAfter: expect.anything() })
  })

  test('a standalone server rejects change streams with 40573', async () => {
    const { sim, client, posts } = await setup({ setName: null })
    expect(sim.uri).toBe(`mongodb://127.0.0.1:${sim.port}/`)
    const hello = await client.db('admin').command({ hello: 1 })
    expect(hello.setName).toBeUndefined()
    await posts.insertOne({ n: 1 })
    const stream = closing(posts.watch())
    await expect(stream.next()).rejects.toMatchObject({ code: 40573 })
  })
})

describe('faults on writes', () => {
  test('a delayed reply arrives late; a retried write is applied once', async () => {
    const { sim, posts } = await setup()
    sim.fault({ on: 'find', delayMs: 300 })
    const started = Date.now()
    await posts.findOne({})
    expect(Date.now() - started).toBeGreaterThanOrEqual(290)

    // The insert runs, its reply is lost with the connection, the driver retries it.
    sim.fault({ on: 'insert', delayMs: 400 })
    const insert = posts.insertOne({ _id: 'once' })
    await waitFor(() => sim.commands.some((c) => c.name === 'insert'))
    sim.dropConnections()
    await expect(insert).resolves.toMatchObject({ insertedId: 'once' })
    const inserts = sim.commands.filter((c) => c.name === 'insert')
    expect(inserts).toHaveLength(2)
    expect(inserts[1]!.body.txnNumber).toEqual(inserts[0]!.body.txnNumber)
    expect(sim.documents('app', 'posts')).toEqual([{ _id: 'once' }])

    sim.fault({ on: 'insert', error: { code: 11600, labels: ['RetryableWriteError'] } })
    await posts.insertOne({ _id: 'twice' })
    expect(sim.documents('app', 'posts')).toHaveLength(2)
    sim.fault({ on: 'insert', error: { code: 2, message: 'bad' } })
    await expect(posts.insertOne({})).rejects.toMatchObject({ code: 2, errmsg: 'bad' })
  })
})

test('the CLI runs a simulator in its own process and prints its URI', async () => {
  const cli = fileURLToPath(new URL('./cli.ts', import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', cli, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = once(child, 'exit')
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL')
    await exited
  })
  let out = ''
  for await (const chunk of child.stdout) {
    out += String(chunk)
    if (out.includes('\n')) break
  }
  const uri = out.trim()
  expect(uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\/\?replicaSet=rs0$/)
  const client = new MongoClient(uri, { heartbeatFrequencyMS: 500, serverSelectionTimeoutMS: 3000 })
  cleanups.push(() => client.close())
  await client.db('app').collection('posts').insertOne({ n: 1 })
  expect(await client.db('app').collection('posts').countDocuments()).toBe(1)
  await client.close()
  child.kill('SIGTERM')
  expect(await exited).toEqual([0, null])
})

test('framing: split chunks, OP_MSG document sequences, replies in the request opcode', () => {
  const body = BSON.serialize({ insert: 'posts', $db: 'app' })
  const docs = [BSON.serialize({ n: 1 }), BSON.serialize({ n: 2 })]
  const identifier = Buffer.from('documents\0')
  const sequenceSize = 4 + identifier.length + docs[0]!.length + docs[1]!.length
  const length = 16 + 4 + 1 + body.length + 1 + sequenceSize
  const message = Buffer.alloc(length)
  message.writeInt32LE(length, 0)
  message.writeInt32LE(7, 4)
  message.writeInt32LE(OP_MSG, 12)
  let at = 20
  message[at++] = 0
  message.set(body, at)
  at += body.length
  message[at++] = 1
  message.writeInt32LE(sequenceSize, at)
  identifier.copy(message, at + 4)
  message.set(docs[0]!, at + 4 + identifier.length)
  message.set(docs[1]!, at + 4 + identifier.length + docs[0]!.length)

  const reader = new FrameReader()
  expect(reader.push(message.subarray(0, 10))).toEqual([])
  const [whole] = reader.push(Buffer.concat([message.subarray(10), message.subarray(0, 3)]))
  const request = decodeRequest(whole!)
  expect(request).toMatchObject({ requestId: 7, db: 'app', moreToCome: false })
  expect(request.body).toEqual({ insert: 'posts', $db: 'app', documents: [{ n: 1 }, { n: 2 }] })

  const reply = encodeReply(request, { ok: 1 })
  expect([reply.readInt32LE(0), reply.readInt32LE(8), reply.readInt32LE(12)]).toEqual([reply.length, 7, OP_MSG])
  expect(BSON.deserialize(reply.subarray(21))).toEqual({ ok: 1 })
  const legacy = encodeReply({ ...request, opCode: 2004 }, { ok: 1 })
  expect(legacy.readInt32LE(12)).toBe(OP_REPLY)
  expect(BSON.deserialize(legacy.subarray(36))).toEqual({ ok: 1 })
})
