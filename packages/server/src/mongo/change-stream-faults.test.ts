import { createHub, healthReport, isRtError, memoryLog } from '@rt/server'
import { MongoClient } from 'mongodb'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { type MongoSimFault, startMongoSim } from '../../test/mongo-sim/index.js'
import { manualClock } from '../../test/mongo-support/clock.js'
import { type Fixture, fixture, insertNs, running } from '../../test/mongo-support/fixture.js'
import {
  clientOptions,
  eventually,
  type MongoTarget,
  mongoTarget,
  REAL_URI,
  SIM_ONLY,
} from '../../test/mongo-support/target.js'
import { mongoChangeStream } from './change-stream.js'
import { mongoTokenStore } from './mongo-token-store.js'

let target: MongoTarget
const open: Fixture[] = []
beforeAll(async () => {
  target = await mongoTarget()
})
afterEach(async () => {
  for (const f of open.splice(0)) await f.close()
})
afterAll(() => target.close())

async function setup(options: Parameters<typeof fixture>[1] = {}): Promise<Fixture> {
  const f = await fixture(target, options)
  open.push(f)
  return f
}

/** A resume token's `_data`: hex strings that order as the positions they stand for. */
function dataOf(token: unknown): string {
  const data = (token as { _data?: unknown } | null | undefined)?._data
  if (typeof data !== 'string' || data === '') throw new Error(`not a resume token: ${JSON.stringify(token)}`)
  return data
}

/** Fault injection needs the simulator: skipped against a real replica set. */
const simTest = test.skipIf(REAL_URI !== undefined)

describe(`transient errors ${SIM_ONLY}`, () => {
  simTest('a labelled resumable error and a dropped socket are resumed by the driver, not by a restart', async () => {
    const sim = target.sim!
    const f = await setup()
    await running(f.source)
    await insertNs(f.posts, [1, 2])
    await eventually(async () => (await f.ns()).length === 2)
    const opened = f.streamStages().length
    // Each fault hits the next getMore; wait for the driver's resume before the next one.
    const faults: MongoSimFault[] = [
      { on: 'getMore', error: { code: 10107, labels: ['ResumableChangeStreamError'] } },
      { on: 'getMore', drop: true },
      { on: 'getMore', error: { code: 43, message: 'cursor id 1 not found' } },
    ]
    // The position the driver holds before each fault: the token of the last change it read.
    const held: unknown[] = []
    for (const [i, fault] of faults.entries()) {
      const stored = await f.tokens.load(f.source.name)
      held.push(stored?.token)
      sim.fault(fault)
      await insertNs(f.posts, [3 + i])
      await eventually(() => f.streamStages().length === opened + i + 1, { what: `resume ${i + 1}` })
      await eventually(async () => (await f.ns()).length === 3 + i)
    }
    expect(await f.ns()).toEqual([1, 2, 3, 4, 5])
    const resumes = f.streamStages().slice(opened)
    expect(resumes.length).toBe(3)
    // The driver resumes after the last change it saw.
    // Resume tokens order as their `_data` strings: the driver resumes at or after the
    // position the source had stored (never before it), and the change inserted after each
    // fault arrived (the ns above), so none was skipped.
    for (const [i, stage] of resumes.entries()) {
      const from = dataOf(stage.resumeAfter ?? stage.startAfter)
      expect(from >= dataOf(held[i]), `resume ${i + 1}: ${from} is not before ${dataOf(held[i])}`).toBe(true)
    }
    expect(f.source.status().restarts).toBe(0)
    expect(f.source.status().state).toBe('running')
  })

  simTest('a stream that dies anyway is reopened from the stored token after a jittered backoff', async () => {
    const sim = target.sim!
    const clock = manualClock()
    const failures: unknown[] = []
    const f = await setup({
      timers: clock.timers,
      backoff: { initialMs: 10_000, maxMs: 60_000, random: () => 0 },
      onError: (error) => failures.push(error),
    })
    await running(f.source)
    await insertNs(f.posts, [1])
    await eventually(async () => (await f.ns()).length === 1)
    const stored = await eventually(() => f.tokens.load(f.source.name))
    const opened = f.streamStages().length
    // Not resumable: no label, not a network error, not 43.
    sim.fault({ on: 'getMore', error: { code: 2, message: 'simulated fatal getMore' } })
    await eventually(() => f.source.status().restarts === 1, { what: 'a restart' })
    expect(f.source.status()).toMatchObject({ state: 'starting', error: expect.stringContaining('simulated fatal') })
    expect(failures).toHaveLength(1)
    // Waiting out the backoff: half of 10 s with random() = 0.
    await clock.advance(4_999)
    expect(f.streamStages().length).toBe(opened)
    // The first reopen fails too, on the aggregate itself: the next wait doubles.
    sim.fault({ on: 'aggregate', error: { code: 13, message: 'simulated unauthorized' } })
    await clock.advance(1)
    await eventually(() => f.source.status().restarts === 2, { what: 'a second restart' })
    expect(f.streamStages().length).toBe(opened + 1)
    await clock.advance(9_999)
    expect(f.streamStages().length).toBe(opened + 1)
    await clock.advance(1)
    await running(f.source)
    expect(f.streamStages().slice(opened)).toEqual([
      expect.objectContaining({ startAfter: stored.token }),
      expect.objectContaining({ startAfter: stored.token }),
    ])
    await insertNs(f.posts, [2])
    await eventually(async () => (await f.ns()).length === 2)
    expect(await f.ns()).toEqual([1, 2])
    expect(f.source.status()).toMatchObject({ state: 'running', error: undefined, restarts: 2 })

    // It ran again, so the next death starts the backoff over at its first step.
    sim.fault({ on: 'getMore', error: { code: 2, message: 'simulated fatal getMore' } })
    await eventually(() => f.source.status().restarts === 3, { what: 'a third restart' })
    await clock.advance(4_999)
    expect(f.streamStages().length).toBe(opened + 2)
    await clock.advance(1)
    await running(f.source)
    expect(f.streamStages().length).toBe(opened + 3)
  })

  simTest('a cursor closed by the server (id 0) is reopened without losing a change', async () => {
    const f = await setup()
    await running(f.source)
    await insertNs(f.posts, [1])
    await eventually(async () => (await f.ns()).length === 1)
    target.sim!.fault({ on: 'getMore', cursorId0: true })
    await insertNs(f.posts, [2])
    await eventually(() => f.source.status().restarts === 1, { what: 'the reopen' })
    await running(f.source)
    await insertNs(f.posts, [3])
    await eventually(async () => (await f.ns()).length === 3)
    expect(await f.ns()).toEqual([1, 2, 3])
    expect(f.source.status().restarts).toBe(1)
  })
})

test('a change that map keeps failing on is retried with a growing backoff, never skipped', async () => {
  const clock = manualClock()
  let poisoned = true
  const f = await setup({
    timers: clock.timers,
    backoff: { initialMs: 10_000, maxMs: 60_000, random: () => 0 },
    map: (change) => {
      if (change.operationType !== 'insert') return null
      const { n } = change.fullDocument as { n: number }
      if (n === 2 && poisoned) throw new Error('cannot map 2')
      return { type: 'post', topic: 'posts', data: { n } }
    },
  })
  await running(f.source)
  await insertNs(f.posts, [1, 2, 3])
  await eventually(() => f.source.status().restarts === 1, { what: 'the first failure' })
  expect(f.source.status().error).toMatch(/cannot map 2/)
  await clock.advance(5_000)
  await eventually(() => f.source.status().restarts === 2, { what: 'the second failure' })
  // The stream made no progress in between: the second wait is twice the first.
  const opened = f.streamStages().length
  await clock.advance(9_999)
  expect(f.streamStages().length).toBe(opened)
  expect(await f.ns()).toEqual([1])
  poisoned = false
  await clock.advance(1)
  await eventually(async () => (await f.ns()).length === 3)
  expect(await f.ns()).toEqual([1, 2, 3])
})

describe(`lost history ${SIM_ONLY}`, () => {
  async function lose(f: Fixture): Promise<void> {
    await running(f.source)
    await f.posts.insertOne({ n: 1 })
    await f.db.collection('other').insertOne({ x: 1 })
    await eventually(async () => (await f.ns()).includes(1))
    await f.source.stop()
    await insertNs(f.posts, [2, 3]) // made while stopped, then lost with the history
    target.sim!.truncateHistory()
  }

  simTest("'reset' (default): rt.reset to the source's topics, then on from now", async () => {
    const f = await setup({
      map: (change) =>
        change.operationType === 'insert'
          ? [
              { type: 'post', topic: 'posts', data: { n: change.fullDocument.n } },
              { type: 'post', topic: `post:${change.fullDocument.n}`, data: { n: change.fullDocument.n } },
            ]
          : null,
    })
    await lose(f)
    await f.source.start()
    await running(f.source)
    await insertNs(f.posts, [4])
    await eventually(async () => (await f.entries()).some((e) => (e.data as { n?: number }).n === 4))
    const entries = await f.entries()
    expect(entries.map((e) => [e.type, e.topic, e.data])).toEqual([
      ['post', 'posts', { n: 1 }],
      ['post', 'post:1', { n: 1 }],
      ['rt.reset', 'posts', { reason: 'history_lost' }],
      ['rt.reset', 'post:1', { reason: 'history_lost' }],
      ['post', 'posts', { n: 4 }],
      ['post', 'post:4', { n: 4 }],
    ])
    expect(f.source.status()).toMatchObject({ state: 'running', restarts: 1 })
    // Restarted from now: no resume option on the reopened stream.
    const last = f.streamStages().at(-1) as Record<string, unknown>
    expect(last.startAfter ?? last.resumeAfter).toBeUndefined()
  })

  simTest('a restarted process still knows the topics to reset, from the stored checkpoint', async () => {
    const f = await setup()
    await lose(f)
    // A new process: fresh hub, fresh source, same token store.
    const g = await setup({ collection: f.posts, tokens: f.tokens, name: f.source.name })
    await running(g.source)
    const entries = await g.entries()
    expect(entries.map((e) => [e.type, e.topic])).toEqual([['rt.reset', 'posts']])
  })

  simTest('resetTopics overrides the remembered topics', async () => {
    const f = await setup({ resetTopics: (reason) => [`all:${reason}`, 'feed'] })
    await lose(f)
    await f.source.start()
    await running(f.source)
    expect((await f.entries()).filter((e) => e.type === 'rt.reset').map((e) => e.topic)).toEqual([
      'all:history_lost',
      'feed',
    ])
  })

  simTest("'fail': state failed and health degraded until recover()", async () => {
    const f = await setup({ onHistoryLost: 'fail' })
    await lose(f)
    await f.source.start()
    await eventually(() => f.source.status().state === 'failed', { what: 'failed' })
    const { status, report } = healthReport(f.hub)
    expect(status).toBe(503)
    expect(report.status).toBe('degraded')
    // The public probe names the state only; the failure text needs `details`.
    expect(report.sources[0]).toMatchObject({ state: 'failed' })
    expect(report.sources[0]).not.toHaveProperty('error')
    expect(healthReport(f.hub, { details: true }).report.sources[0]).toMatchObject({
      state: 'failed',
      error: expect.stringMatching(/no longer holds/),
    })
    expect(f.source.status().error).toMatch(/no longer holds/)
    expect(f.errors.some((e) => isRtError(e) && e.code === 'history_lost')).toBe(true)
    // It stays failed: nothing more is read.
    const opened = f.streamStages().length
    await insertNs(f.posts, [4])
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(f.streamStages().length).toBe(opened)
    expect(await f.ns()).toEqual([1])

    await f.source.recover()
    await running(f.source)
    await insertNs(f.posts, [5])
    await eventually(async () => (await f.ns()).length === 2)
    expect((await f.entries()).map((e) => [e.type, e.data])).toEqual([
      ['post', { n: 1 }],
      ['rt.reset', { reason: 'history_lost' }],
      ['post', { n: 5 }],
    ])
    expect(healthReport(f.hub).status).toBe(200)
  })
})

describe(`invalidate ${SIM_ONLY}`, () => {
  simTest("'reset': rt.reset with reason invalidated, then on just after the invalidation", async () => {
    const f = await setup()
    await running(f.source)
    await insertNs(f.posts, [1])
    await eventually(async () => (await f.ns()).length === 1)
    await eventually(async () => (await f.tokens.load(f.source.name)) !== null)
    const before = dataOf((await f.tokens.load(f.source.name))?.token)
    target.sim!.invalidate(f.db.databaseName, 'posts')
    await eventually(async () => (await f.entries()).some((e) => e.type === 'rt.reset'))
    await insertNs(f.posts, [2])
    await eventually(async () => (await f.ns()).length === 2)
    expect((await f.entries()).map((e) => [e.type, e.data])).toEqual([
      ['post', { n: 1 }],
      ['rt.reset', { reason: 'invalidated' }],
      ['post', { n: 2 }],
    ])
    const stored = await f.tokens.load(f.source.name)
    const reopened = f.streamStages().at(-1) as Record<string, unknown>
    // Reopened after the position stored before the invalidation, and at or before the one
    // stored once the next change was processed.
    const startAfter = dataOf(reopened.startAfter)
    expect(startAfter > before, `${startAfter} after ${before}`).toBe(true)
    expect(startAfter <= dataOf(stored?.token), `${startAfter} not after ${dataOf(stored?.token)}`).toBe(true)
  })

  simTest("'fail': the source fails on invalidate", async () => {
    const f = await setup({ onHistoryLost: 'fail' })
    await running(f.source)
    target.sim!.invalidate(f.db.databaseName, 'posts')
    await eventually(() => f.source.status().state === 'failed')
    expect(f.source.status().error).toMatch(/invalidated/)
    await f.source.recover()
    await running(f.source)
    await insertNs(f.posts, [7])
    await eventually(async () => (await f.ns()).length === 1)
    expect((await f.entries()).map((e) => [e.type, e.data])).toEqual([['post', { n: 7 }]])
  })
})

describe(`standalone server ${SIM_ONLY}`, () => {
  simTest('fails at start with an error that says how to fix it', async () => {
    const sim = await startMongoSim({ setName: null })
    const client = new MongoClient(sim.uri, clientOptions)
    try {
      const db = client.db('app')
      for (const watched of [{ db }, { collection: db.collection('posts') }, { client }]) {
        const errors: unknown[] = []
        const hub = createHub({ log: memoryLog(), onError: (e) => errors.push(e) })
        const source = mongoChangeStream({ ...watched, map: () => null })
        await hub.attach(source)
        const entry = hub.stats().sources[0]
        expect(entry?.state).toBe('failed')
        expect(entry?.error).toMatch(/--replSet rs0/)
        expect(entry?.error).toMatch(/rs\.initiate\(\)/)
        expect(errors).toHaveLength(1)
        expect(isRtError(errors[0]) && errors[0].code).toBe('replica_set_required')
        expect(healthReport(hub).status).toBe(503)
        await hub.close()
      }
      expect(sim.commands.some((c) => c.name === 'aggregate')).toBe(false)
    } finally {
      await client.close()
      await sim.close()
    }
  })

  simTest('error 40573 from the aggregate itself fails the same way', async () => {
    target.sim!.fault({ on: 'aggregate', error: { code: 40573, message: 'only supported on replica sets' } })
    const f = await setup()
    await eventually(() => f.source.status().state === 'failed')
    expect(f.source.status().error).toMatch(/--replSet rs0/)
  })
})

test('options are checked up front', async () => {
  const client = new MongoClient('mongodb://127.0.0.1:1/', clientOptions)
  const db = client.db('x')
  expect(() => mongoChangeStream({ map: () => null })).toThrow(/exactly one/)
  expect(() => mongoChangeStream({ db, collection: db.collection('c'), map: () => null })).toThrow(/exactly one/)
  expect(() =>
    mongoChangeStream({ db, map: () => null, lease: true, tokens: { ...mongoTokenStore(db), lease: undefined } }),
  ).toThrow(/lease/)
  // @ts-expect-error a value the type does not allow, as plain JavaScript could pass it
  expect(() => mongoChangeStream({ db, map: () => null, onHistoryLost: 'ignore' })).toThrow(/onHistoryLost/)
  await expect(mongoChangeStream({ db, map: () => null }).start()).rejects.toThrow(/hub.attach/)
  await client.close()
})
