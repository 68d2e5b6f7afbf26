import { createHub, isRtError, type Log, type LogEntry } from '@rt/server'
import fc from 'fast-check'
import { type Db, MongoClient } from 'mongodb'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { appendPositions, filterAppends, filteredReadsAgree, filterReads } from '../../test/log-support.js'
import {
  clientOptions,
  eventually,
  type MongoTarget,
  mongoTarget,
  REAL_URI,
  SIM_ONLY,
} from '../../test/mongo-support/target.js'
import { type MongoLogOptions, mongoLog } from './mongo-log.js'

let target: MongoTarget
const logs: Log[] = []
beforeAll(async () => {
  target = await mongoTarget()
})
afterEach(async () => {
  for (const log of logs.splice(0)) await log.close?.()
})
afterAll(() => target.close())

async function freshDb(): Promise<Db> {
  return (await target.client()).db(target.dbName())
}

async function open(options: MongoLogOptions): Promise<Log> {
  const log = await mongoLog({ pollMs: 50, gapMs: 300, ...options })
  logs.push(log)
  return log
}

/** Collects what a log tells its subscribers. */
function listen(log: Log): LogEntry[] {
  const told: LogEntry[] = []
  log.subscribe((entry) => told.push(entry))
  return told
}

const origin = (log: Log) => log.head().replace(/-\d+$/, '-0')
const seqOf = (id: string) => Number(id.slice(id.lastIndexOf('-') + 1))
const simTest = test.skipIf(REAL_URI !== undefined)

describe('mongoLog', () => {
  test('assigns ordered ids, reads after an id, tells subscribers in order, and reports its head', async () => {
    const log = await open({ db: await freshDb() })
    const told = listen(log)
    const start = log.head()
    expect(start).toMatch(/^[0-9a-z]+-0$/)
    const appended: LogEntry[] = []
    for (let i = 1; i <= 5; i++) {
      appended.push(await log.append({ type: 'm', topic: i % 2 ? 'odd' : 'even', data: { i, s: 'é\n"' }, to: ['u1'] }))
    }
    expect(appended.map((e) => seqOf(e.id))).toEqual([1, 2, 3, 4, 5])
    await eventually(() => told.length === 5)
    expect(told.map((e) => e.id)).toEqual(appended.map((e) => e.id))
    expect(told[0]).toMatchObject({ type: 'm', topic: 'odd', data: { i: 1, s: 'é\n"' }, to: ['u1'] })
    expect(log.head()).toBe(appended[4]?.id)
    const page = await log.read(appended[1]?.id as string, 2)
    expect(page).toEqual({ ok: true, entries: [told[2], told[3]], more: true })
    const rest = await log.read(appended[3]?.id as string, 10)
    expect(rest).toEqual({ ok: true, entries: [told[4]], more: false })
    expect(await log.read(log.head(), 10)).toEqual({ ok: true, entries: [], more: false })
    expect(await log.read(origin(log), 100)).toMatchObject({ ok: true, entries: told })
  })

  test('a repeated key returns the first entry and tells nobody twice', async () => {
    const log = await open({ db: await freshDb() })
    const told = listen(log)
    const first = await log.append({ type: 'm', topic: 't', data: 1, key: 'k' })
    const again = await log.append({ type: 'm', topic: 't', data: 2, key: 'k' })
    const other = await log.append({ type: 'm', topic: 't', data: 3, key: 'k2' })
    expect(again).toEqual(first)
    await eventually(() => told.length === 2)
    expect(told.map((e) => e.data)).toEqual([1, 3])
    // The number the duplicate took is skipped, not a hole that holds others back.
    expect(seqOf(other.id)).toBe(3)
    const page = await log.read(origin(log), 10)
    expect(page.ok && page.entries.map((e) => e.data)).toEqual([1, 3])
  })

  test('tells malformed, unknown and evicted ids apart', async () => {
    const db = await freshDb()
    const log = await open({ db, retention: { maxEntries: 10 } })
    const first = await log.append({ type: 'm', topic: 't', data: 0 })
    for (let i = 1; i < 30; i++) await log.append({ type: 'm', topic: 't', data: i })
    await eventually(() => seqOf(log.head()) === 30)
    expect(await log.read('nonsense', 10)).toEqual({ ok: false, reason: 'malformed' })
    expect(await log.read('abc-1\n', 10)).toEqual({ ok: false, reason: 'malformed' })
    expect(await log.read('otherepoch-3', 10)).toEqual({ ok: false, reason: 'unknown' })
    expect(await log.read(log.head().replace(/-\d+$/, '-999'), 10)).toEqual({ ok: false, reason: 'unknown' })
    expect(await log.read(first.id, 10)).toEqual({ ok: false, reason: 'evicted' })
    const kept = await db.collection('rt_log').countDocuments()
    expect(kept).toBeLessThanOrEqual(20)
    expect(kept).toBeGreaterThanOrEqual(10)
    const recent = await log.read(log.head().replace(/-\d+$/, '-25'), 10)
    expect(recent.ok && recent.entries.map((e) => e.data)).toEqual([25, 26, 27, 28, 29])
  })

  test('retention by age: a TTL index on the entry time', async () => {
    const db = await freshDb()
    await open({ db, collection: 'events', retention: { maxAgeMs: 3_600_000 } })
    const indexes = await db.collection('events').indexes()
    expect(indexes.find((i) => i.name === 'ts_ttl')).toMatchObject({ key: { ts: 1 }, expireAfterSeconds: 3_600 })
    expect(indexes.find((i) => i.name === 'key_unique')).toMatchObject({ unique: true })
  })

  test('survives a restart: a new instance keeps the epoch and resumes old ids', async () => {
    const db = await freshDb()
    const log = await open({ db })
    const a = await log.append({ type: 'm', topic: 't', data: 'a' })
    await log.append({ type: 'm', topic: 't', data: 'b' })
    await log.close?.()
    const reopened = await open({ db })
    expect(reopened.head()).toBe(`${a.id.split('-')[0]}-2`)
    const page = await reopened.read(a.id, 10)
    expect(page.ok && page.entries.map((e) => e.data)).toEqual(['b'])
  })

  test('holes left by writers that died with every node are skipped at start, not taken for evictions', async () => {
    const db = await freshDb()
    const log = await open({ db, gapMs: 60_000 })
    const first = await log.append({ type: 'm', topic: 't', data: 1 })
    // Number 2 was taken by a writer that died, then everything stopped before any tail skipped it.
    await db.collection('rt_log.meta').updateOne({ _id: 'sequence' as never }, { $inc: { seq: 1 } })
    await log.append({ type: 'm', topic: 't', data: 3 })
    await log.close?.()
    const restarted = await open({ db })
    expect(seqOf(restarted.head())).toBe(3)
    const page = await restarted.read(first.id, 10)
    expect(page.ok && page.entries.map((e) => e.data)).toEqual([3])
  })

  test('several nodes agree on ids and order, and each tells its subscribers everything', async () => {
    const db = await freshDb()
    const nodes = await Promise.all([open({ db }), open({ db }), open({ db })])
    const told = nodes.map(listen)
    const appended = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (nodes[i % 3] as Log).append({ type: 'm', topic: 't', data: i })),
    )
    const ids = appended.map((e) => e.id)
    expect(new Set(ids).size).toBe(60)
    await eventually(() => told.every((t) => t.length === 60), { what: 'every node told everything' })
    const expected = [...appended].sort((x, y) => seqOf(x.id) - seqOf(y.id)).map((e) => [e.id, e.data])
    for (const list of told) expect(list.map((e) => [e.id, e.data])).toEqual(expected)
    expect(expected.map(([id]) => seqOf(id as string))).toEqual(Array.from({ length: 60 }, (_, i) => i + 1))
  })

  test('a read past this node’s tail is refused; catchUp waits for the tail, so replay and live delivery cannot overlap', async () => {
    const db = await freshDb()
    const writer = await open({ db })
    const slow = await open({ db, pollMs: 60_000 })
    const told = listen(slow)
    await writer.append({ type: 'm', topic: 't', data: 1 })
    const second = await writer.append({ type: 'm', topic: 't', data: 2 })
    await writer.append({ type: 'm', topic: 't', data: 3 })
    // Answering now would let the tail tell 1 and 2 to a reader positioned after 2.
    await expect(slow.read(second.id, 10)).rejects.toMatchObject({ code: 'unavailable', status: 503 })
    await slow.catchUp?.(second.id)
    expect(told.map((e) => e.data).slice(0, 2)).toEqual([1, 2])
    const page = await slow.read(second.id, 10)
    expect(page.ok && page.entries.map((e) => e.data)).toEqual([3])
    expect(told.map((e) => e.data)).toEqual([1, 2, 3])
  })

  test('serves as a hub log: publish, subscribe, replay', async () => {
    const log = await open({ db: await freshDb() })
    const hub = createHub({ log })
    const ids = [
      await hub.publish({ type: 'm', topic: 't', data: 1 }),
      await hub.publish({ type: 'm', topic: 't', data: 2 }),
    ]
    // head and read follow what this node has tailed: a moment after the append.
    await eventually(() => log.head() === ids[1])
    const page = await log.read(ids[0] as string, 10)
    expect(page.ok && page.entries.map((e) => e.id)).toEqual([ids[1]])
    await hub.close()
  })
})

describe(`writers that stall or die ${SIM_ONLY}`, () => {
  simTest('a number taken by a writer that died is skipped after gapMs; later entries then flow', async () => {
    const db = await freshDb()
    const log = await open({ db, gapMs: 400 })
    const told = listen(log)
    await log.append({ type: 'm', topic: 't', data: 1 })
    // A writer takes number 2 and dies before inserting.
    await db.collection('rt_log.meta').updateOne({ _id: 'sequence' as never }, { $inc: { seq: 1 } })
    const third = await log.append({ type: 'm', topic: 't', data: 3 })
    expect(seqOf(third.id)).toBe(3)
    await eventually(() => told.length === 1)
    const held = Date.now()
    await eventually(() => told.length === 2, { what: 'the entry after the hole' })
    expect(Date.now() - held).toBeGreaterThanOrEqual(250)
    expect(told.map((e) => e.data)).toEqual([1, 3])
    expect(await db.collection('rt_log').findOne({ _id: 2 as never })).toMatchObject({ skip: true })
    const page = await log.read(origin(log), 10)
    expect(page.ok && page.entries.map((e) => e.data)).toEqual([1, 3])
  })

  simTest('a writer stalled past gapMs appends again under a new number; order and ids stay consistent', async () => {
    const db = await freshDb()
    const log = await open({ db, gapMs: 200 })
    const other = await open({ db, gapMs: 200 })
    const told = listen(log)
    // The counter moves at once but its answer comes late: the writer inserts after the hole
    // its number left was skipped, gets a duplicate _id, and takes a new number.
    target.sim!.fault({ on: 'findAndModify', delayMs: 800 })
    const stalled = log.append({ type: 'm', topic: 't', data: 'stalled', key: 'stalled' })
    await eventually(async () => (await db.collection('rt_log.meta').findOne())?.seq === 1)
    const next = await other.append({ type: 'm', topic: 't', data: 'next' })
    expect(seqOf(next.id)).toBe(2)
    await eventually(() => told.length === 1, { what: 'the entry after the hole' })
    expect(await db.collection('rt_log').findOne({ _id: 1 as never })).toMatchObject({ skip: true })
    const entry = await stalled
    expect(seqOf(entry.id)).toBe(3)
    await eventually(() => told.length === 2)
    expect(told.map((e) => [seqOf(e.id), e.data])).toEqual([
      [2, 'next'],
      [3, 'stalled'],
    ])
    await eventually(() => other.head() === entry.id)
    const page = await other.read(origin(other), 10)
    expect(page.ok && page.entries.map((e) => e.id)).toEqual(told.map((e) => e.id))
  })
})

test('options are checked', async () => {
  const db = await freshDb()
  await expect(mongoLog({ db, pollMs: 0 })).rejects.toThrow(/pollMs/)
  await expect(mongoLog({ db, retention: { maxEntries: -1 } })).rejects.toThrow(/maxEntries/)
})

test('a filtered read returns exactly what an unfiltered read lets through, on the topic index (10 runs)', async () => {
  const db = await freshDb()
  let run = 0
  await fc.assert(
    fc.asyncProperty(filterAppends, filterReads, async (appends, reads) => {
      const log = await open({ db, collection: `rt_log_filter_${run++}` })
      const positions = await appendPositions(log, appends)
      await eventually(() => log.head() === positions.at(-1))
      await filteredReadsAgree(log, positions, reads)
    }),
    { numRuns: 10 },
  )
  const indexes = await db.collection('rt_log_filter_0').indexes()
  expect(indexes.map((index) => index.key)).toContainEqual({ topic: 1, _id: 1 })
})

test('concurrent filtered reads, batched into shared queries and cut short by small batches, agree (10 runs)', async () => {
  const db = await freshDb()
  let run = 0
  await fc.assert(
    fc.asyncProperty(filterAppends, filterReads, fc.integer({ min: 1, max: 4 }), async (appends, reads, entries) => {
      // One batch at a time, of a few entries: reads wait, share a query, and continue.
      const log = await open({ db, collection: `rt_log_batch_${run++}`, readBatch: { inFlight: 1, entries } })
      const positions = await appendPositions(log, appends)
      await eventually(() => log.head() === positions.at(-1))
      await filteredReadsAgree(log, positions, reads, { concurrent: true })
    }),
    { numRuns: 10 },
  )
})

test('a storm of filtered reads shares queries: far fewer finds than reads, each read gets its own entries', async () => {
  const client = new MongoClient(target.uri, { ...clientOptions, monitorCommands: true })
  await client.connect()
  const db = client.db(target.dbName())
  const log = await open({ db })
  const users = 300
  for (let i = 0; i < users * 2; i++) await log.append({ type: 'm', topic: `user:${i % users}`, data: i })
  await eventually(() => seqOf(log.head()) === users * 2)
  let finds = 0
  const count = (event: { commandName: string; command: Record<string, unknown> }) => {
    if (event.commandName === 'find' && event.command.find === 'rt_log') finds++
  }
  client.on('commandStarted', count)
  const pages = await Promise.all(
    Array.from({ length: users }, (_, user) =>
      log.read(origin(log), 500, { topics: new Set([`user:${user}`]), userId: `u${user}` }),
    ),
  )
  client.off('commandStarted', count)
  for (const [user, page] of pages.entries()) {
    if (!page.ok) throw new Error(`read ${user} was refused: ${page.reason}`)
    expect(page.entries.map((entry) => entry.data)).toEqual([user, user + users])
    expect(page.more).toBe(false)
  }
  // A batch is two finds (positions, then entries) for up to 100 reads.
  expect(finds).toBeGreaterThan(0)
  expect(finds).toBeLessThan(users / 5)
  await log.close?.()
  await db.dropDatabase()
  await client.close()
})

test('closing the log fails the filtered reads still waiting for a batch; the one in flight completes', async () => {
  const db = await freshDb()
  const log = await open({ db, collection: 'rt_log_close', readBatch: { inFlight: 1, reads: 1 } })
  for (let i = 0; i < 3; i++) await log.append({ type: 'm', topic: 'a', data: i })
  await eventually(() => seqOf(log.head()) === 3)
  const filter = { topics: new Set(['a']) }
  const reads = [0, 1, 2].map(() => log.read(origin(log), 10, filter))
  await log.close?.()
  const [first, ...rest] = await Promise.allSettled(reads)
  expect(first?.status).toBe('fulfilled')
  for (const read of rest) {
    expect(read.status).toBe('rejected')
    const reason = (read as PromiseRejectedResult).reason
    expect(isRtError(reason) && reason.code).toBe('hub_closed')
  }
})
