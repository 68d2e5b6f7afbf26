/**
 * What real deployments hit: streams that read rt's own writes, fatal 280s, 136, per-event
 * errors that never go away, events over 16 MB, and the lessons of other change-stream users.
 */
import { createHub, type Hub, isRtError, type Log, memoryLog } from '@rt/server'
import type { ChangeStreamDocument, Db, Document } from 'mongodb'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { type Fixture, fixture, insertNs, running } from '../../test/mongo-support/fixture.js'
import { eventually, type MongoTarget, mongoTarget, REAL_URI, SIM_ONLY } from '../../test/mongo-support/target.js'
import { type MongoChangeStreamOptions, type MongoChangeStreamSource, mongoChangeStream } from './change-stream.js'
import { mongoLog } from './mongo-log.js'
import { mongoTokenStore } from './mongo-token-store.js'
import type { Checkpoint, TokenStore } from './token-store.js'

let target: MongoTarget
const open: { close(): Promise<void> }[] = []
beforeAll(async () => {
  target = await mongoTarget()
})
afterEach(async () => {
  for (const f of open.splice(0)) await f.close()
})
afterAll(() => target.close())

const simTest = test.skipIf(REAL_URI !== undefined)

async function setup(options: Parameters<typeof fixture>[1] = {}): Promise<Fixture> {
  const f = await fixture(target, options)
  open.push(f)
  return f
}

/** Waits for `n` more `getMore`s on `db`: the stream went round its loop that many times. */
async function rounds(db: Db, n: number): Promise<void> {
  const count = () => (target.sim?.commands ?? []).filter((c) => c.name === 'getMore' && c.db === db.databaseName)
  const from = count().length
  await eventually(() => count().length >= from + n, { what: `${n} getMores` })
}

/** A database-wide source on a fresh database, its hub and what `map` saw. */
async function databaseSource(
  options: Partial<MongoChangeStreamOptions> & { log?: (db: Db) => Promise<Log> } = {},
): Promise<{ db: Db; hub: Hub; source: MongoChangeStreamSource; seen: string[]; types: () => Promise<string[]> }> {
  const client = await target.client()
  const db = client.db(target.dbName())
  const log = options.log ? await options.log(db) : memoryLog()
  const origin = log.head()
  const hub = createHub({ log })
  open.push({ close: () => hub.close() })
  const seen: string[] = []
  const { log: _log, ...rest } = options
  const source = mongoChangeStream({
    db,
    tokens: mongoTokenStore(db),
    checkpointMs: 0,
    maxAwaitTimeMS: 100,
    backoff: { initialMs: 20, maxMs: 200 },
    map: (change: ChangeStreamDocument) => {
      const ns = 'ns' in change ? (change.ns as { coll?: string }) : {}
      seen.push(`${change.operationType}:${ns.coll ?? ''}`)
      return change.operationType === 'insert' && ns.coll === 'posts'
        ? { type: 'post', topic: 'posts', data: { n: change.fullDocument.n } }
        : null
    },
    ...rest,
  } as MongoChangeStreamOptions)
  await hub.attach(source)
  await running(source)
  const types = async () => {
    const page = await log.read(origin, 1_000)
    return page.ok ? page.entries.map((e) => e.type) : [`read failed: ${page.reason}`]
  }
  return { db, hub, source, seen, types }
}

describe(`bug 1: a database- or cluster-wide stream never reads rt's own collections ${SIM_ONLY}`, () => {
  simTest('a token store in the watched database: one insert, one map call', async () => {
    const { db, source, seen } = await databaseSource()
    await db.collection('posts').insertOne({ n: 1 })
    await eventually(() => seen.includes('insert:posts'))
    // Checkpoints are written after every round (checkpointMs 0): let it go round a while.
    await rounds(db, 5)
    expect(seen).toEqual(['insert:posts'])
    // The exclusion is part of the stream's pipeline, not a filter in rt.
    const pipeline = target.sim!.commands.filter((c) => c.name === 'aggregate' && c.db === db.databaseName).at(-1)!.body
      .pipeline as Document[]
    expect(JSON.stringify(pipeline[1])).toContain('rt_tokens')
    expect(source.status().state).toBe('running')
  })

  simTest('a mongoLog in the watched database is not fed back into the log', async () => {
    const { db, seen, types } = await databaseSource({ log: (db) => mongoLog({ db, pollMs: 20 }) })
    await db.collection('posts').insertOne({ n: 1 })
    await eventually(() => seen.includes('insert:posts'))
    await rounds(db, 5)
    expect(await types()).toEqual(['post'])
    expect(seen).toEqual(['insert:posts'])
  })

  simTest('`exclude` leaves out more collections, e.g. a mongoLog under another name', async () => {
    const { db, seen } = await databaseSource({
      log: (db) => mongoLog({ db, collection: 'outbox', pollMs: 20 }),
      exclude: ['outbox', 'outbox.meta', `${'other'}.audit`],
    })
    await db.collection('posts').insertOne({ n: 1 })
    await eventually(() => seen.includes('insert:posts'))
    await rounds(db, 5)
    expect(seen).toEqual(['insert:posts'])
  })

  test('`exclude` is checked up front', () => {
    expect(() =>
      mongoChangeStream({ collection: {} as never, map: () => null, exclude: [''] as readonly string[] }),
    ).toThrow(/exclude/)
  })
})

describe(`bug 2: code 280 is not always lost history ${SIM_ONLY}`, () => {
  simTest('a pipeline that changes _id fails the source with a clear error, once, no reset loop', async () => {
    const f = await setup({ pipeline: [{ $set: { _id: 'changed' } }] })
    await running(f.source)
    await f.posts.insertOne({ n: 1 })
    await eventually(() => f.source.status().state === 'failed', { what: 'failed' })
    expect(f.source.status().error).toMatch(/pipeline.*_id/)
    expect(f.errors.some((e) => isRtError(e) && e.code === 'invalid_option')).toBe(true)
    const opened = f.streamStages().length
    expect(opened).toBe(1)
    await f.posts.insertOne({ n: 2 })
    await f.db.command({ ping: 1 })
    expect(f.streamStages().length).toBe(opened)
    expect((await f.entries()).filter((e) => e.type === 'rt.reset')).toEqual([])
  })

  simTest('a stored token from another stream (a reused name) is named as such, then the source goes on', async () => {
    let dead: Document | undefined
    const f = await setup({
      name: 'shared',
      map: (change) => {
        dead = change._id as Document
        return null
      },
    })
    await running(f.source)
    await f.posts.insertOne({ n: 1 })
    await eventually(() => dead)
    await f.source.stop()
    // The checkpoint of a change (not of an empty batch, which any stream accepts).
    await f.tokens.save('shared', { token: dead as Document })
    const failures: unknown[] = []
    const g = await setup({
      collection: f.db.collection('comments'),
      tokens: f.tokens,
      name: 'shared',
      onHistoryLost: 'fail',
      onError: (error) => failures.push(error),
    })
    await eventually(() => g.source.status().state === 'failed', { what: 'failed' })
    expect(g.source.status().error).toMatch(/not from this stream/)
    expect(f.streamStages().filter((s) => JSON.stringify(s.startAfter) === JSON.stringify(dead))).toHaveLength(1)
    // recover() goes on from now.
    await g.source.recover()
    await running(g.source)
    expect((await g.tokens.load('shared'))?.token).not.toEqual(dead)
  })
})

describe(`bug 3: CappedPositionLost (136) is lost history ${SIM_ONLY}`, () => {
  simTest('136 on an open cursor resets the topics and reopens from now', async () => {
    const f = await setup()
    await running(f.source)
    await insertNs(f.posts, [1])
    await eventually(async () => (await f.ns()).length === 1)
    target.sim!.fault({
      on: 'getMore',
      error: { code: 136, message: 'CollectionScan died due to position in capped collection being deleted' },
    })
    await eventually(async () => (await f.entries()).some((e) => e.type === 'rt.reset'), { what: 'a reset' })
    await running(f.source)
    const last = f.streamStages().at(-1) as Document
    expect(last.startAfter ?? last.resumeAfter).toBeUndefined()
    expect((await f.entries()).map((e) => [e.type, e.data])).toEqual([
      ['post', { n: 1 }],
      ['rt.reset', { reason: 'history_lost' }],
    ])
  })
})

describe(`bug 4: per-event errors that no retry can fix fail the source ${SIM_ONLY}`, () => {
  for (const option of ['fullDocument', 'fullDocumentBeforeChange'] as const) {
    simTest(`${option}: 'required' without changeStreamPreAndPostImages says to enable it`, async () => {
      const f = await setup({ [option]: 'required' })
      await running(f.source)
      await f.posts.insertOne({ _id: 'a', n: 1 } as Document)
      await f.posts.updateOne({ _id: 'a' } as Document, { $set: { n: 2 } })
      await eventually(() => f.source.status().state === 'failed', { what: 'failed' })
      expect(f.source.status().error).toMatch(/changeStreamPreAndPostImages/)
      expect(f.source.status().error).toMatch(/collMod/)
      expect(f.streamStages()).toHaveLength(1)
    })
  }

  /** A document of about 9 MB: with both images its update event is over 16 MB. */
  const big = () => 'x'.repeat(9 * 1024 * 1024)

  simTest('an event over 16 MB says to split it or project fields away', async () => {
    const f = await setup({ fullDocument: 'required', fullDocumentBeforeChange: 'required' })
    await f.db.command({ collMod: 'posts', changeStreamPreAndPostImages: { enabled: true } }).catch(async () => {
      await f.db.createCollection('posts', { changeStreamPreAndPostImages: { enabled: true } })
    })
    await running(f.source)
    await f.posts.insertOne({ _id: 'a', big: big() } as Document)
    await f.posts.updateOne({ _id: 'a' } as Document, { $set: { n: 1 } })
    await eventually(() => f.source.status().state === 'failed', { what: 'failed' })
    expect(f.source.status().error).toMatch(/\$changeStreamSplitLargeEvent/)
    expect(f.streamStages()).toHaveLength(1)
  })

  simTest('$changeStreamSplitLargeEvent: fragments are put back together into one change', async () => {
    const changes: Document[] = []
    const saved: Checkpoint[] = []
    const f = await setup({
      fullDocument: 'required',
      fullDocumentBeforeChange: 'required',
      pipeline: [{ $changeStreamSplitLargeEvent: {} }],
      map: (change) => {
        changes.push(change)
        return { type: 'change', topic: 'posts', data: { op: change.operationType } }
      },
    })
    await f.db.createCollection('posts', { changeStreamPreAndPostImages: { enabled: true } })
    const store = f.tokens
    const saves = store.save.bind(store)
    store.save = async (name, checkpoint) => {
      saved.push(checkpoint)
      await saves(name, checkpoint)
    }
    await running(f.source)
    await f.posts.insertOne({ _id: 'a', big: big() } as Document)
    await f.posts.updateOne({ _id: 'a' } as Document, { $set: { n: 1 } })
    await eventually(() => changes.length === 2, { what: 'two changes' })
    const update = changes[1] as Document
    expect(update.splitEvent).toBeUndefined()
    expect(update.operationType).toBe('update')
    expect(update.fullDocument.big.length).toBe(9 * 1024 * 1024)
    expect(update.fullDocument.n).toBe(1)
    expect(update.fullDocumentBeforeChange.n).toBeUndefined()
    expect(update.updateDescription.updatedFields).toEqual({ n: 1 })
    expect((await f.entries()).map((e) => e.data)).toEqual([{ op: 'insert' }, { op: 'update' }])
    // The change's token is its last fragment's: resuming after it skips the whole event.
    const last = (update._id as { _data: string })._data
    expect(last.slice(16, 20)).toBe('0002')
    // Never a checkpoint between two fragments (the simulator's tokens carry the fragment number).
    const fragments = saved
      .map((c) => (c.token as { _data: string })._data)
      .filter((d) => d.slice(16, 18) === '00' && d.slice(18, 20) !== '00')
    expect(fragments.every((d) => d === last)).toBe(true)
  })
})

describe(`bug 5: lessons from other change-stream users ${SIM_ONLY}`, () => {
  simTest('after 286 the dead token is sent once, then replaced (Meteor #14604)', async () => {
    const f = await setup()
    await running(f.source)
    await insertNs(f.posts, [1])
    await eventually(async () => (await f.ns()).length === 1)
    await f.source.stop()
    const dead = (await f.tokens.load(f.source.name))?.token
    // The reopened stream dies on its first getMore, as a real server answers a token that just aged out.
    target.sim!.fault({ on: 'getMore', error: { code: 286, message: 'Resume of change stream was not possible' } })
    await f.source.start()
    await eventually(async () => (await f.entries()).some((e) => e.type === 'rt.reset'), { what: 'a reset' })
    await running(f.source)
    await eventually(async () => JSON.stringify((await f.tokens.load(f.source.name))?.token) !== JSON.stringify(dead))
    // A restarted process does not send it either.
    const g = await setup({ collection: f.posts, tokens: f.tokens, name: f.source.name })
    await running(g.source)
    const withDead = f.streamStages().filter((s) => JSON.stringify(s.startAfter) === JSON.stringify(dead))
    expect(withDead).toHaveLength(1)
  })

  simTest('changes replayed below the checkpoint after a resume are not mapped again (NODE-7042)', async () => {
    const mapped: number[] = []
    const saved: string[] = []
    const f = await setup({
      map: (change) => {
        if (change.operationType !== 'insert') return null
        mapped.push(change.fullDocument.n)
        return { type: 'post', topic: 'posts', data: { n: change.fullDocument.n } }
      },
    })
    const store: TokenStore = f.tokens
    const saves = store.save.bind(store)
    store.save = async (name, checkpoint) => {
      saved.push((checkpoint.token as { _data: string })._data)
      await saves(name, checkpoint)
    }
    await running(f.source)
    await insertNs(f.posts, [1, 2, 3])
    await eventually(async () => (await f.ns()).length === 3)
    target.sim!.fault({ on: 'getMore', replay: 3 })
    await insertNs(f.posts, [4])
    await eventually(async () => (await f.ns()).length === 4)
    expect(mapped).toEqual([1, 2, 3, 4])
    expect(saved).toEqual([...saved].sort())
  })

  simTest("post-images give each update its own version; updateLookup reads today's document", async () => {
    const f = await setup({ attach: false })
    await f.db.createCollection('posts', { changeStreamPreAndPostImages: { enabled: true } })
    await f.posts.insertOne({ _id: 'a', v: 0 } as Document)
    const seen: Record<string, number[]> = { whenAvailable: [], updateLookup: [] }
    const { operationTime } = await f.db.command({ ping: 1 })
    await f.posts.updateOne({ _id: 'a' } as Document, { $set: { v: 1 } })
    await f.posts.updateOne({ _id: 'a' } as Document, { $set: { v: 2 } })
    // Both streams read the two updates after they happened, as a stream that lags behind does.
    for (const mode of ['whenAvailable', 'updateLookup'] as const) {
      const hub = createHub({ log: memoryLog() })
      open.push({ close: () => hub.close() })
      await hub.attach(
        mongoChangeStream({
          collection: f.posts,
          fullDocument: mode,
          startAtOperationTime: operationTime,
          maxAwaitTimeMS: 100,
          map: (change: ChangeStreamDocument) => {
            if (change.operationType === 'update') seen[mode]!.push(change.fullDocument?.v as number)
            return null
          },
        }),
      )
    }
    await eventually(() => seen.whenAvailable!.length === 2 && seen.updateLookup!.length === 2)
    expect(seen).toEqual({ whenAvailable: [1, 2], updateLookup: [2, 2] })
  })
})
