import { healthReport, type Log, type LogEntry, memoryLog } from '@rt/server'
import type { ChangeStreamDocument, Timestamp } from 'mongodb'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { type Fixture, fixture, insertNs, postMap, range, running } from '../../test/mongo-support/fixture.js'
import { eventually, type MongoTarget, mongoTarget } from '../../test/mongo-support/target.js'
import { mongoChangeStream } from './change-stream.js'
import { mongoTokenStore } from './mongo-token-store.js'
import { type Checkpoint, memoryTokenStore, type TokenStore } from './token-store.js'

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

/** Records appends and token saves on one timeline. */
function timeline(tokens: TokenStore) {
  const steps: string[] = []
  const inner = memoryLog()
  const log: Log = {
    ...inner,
    async append(input) {
      const entry = await inner.append(input)
      steps.push(`append ${input.key}`)
      return entry
    },
  }
  const store: TokenStore = {
    ...tokens,
    async save(name, checkpoint) {
      steps.push(`save ${checkpoint.token._data as string}`)
      await tokens.save(name, checkpoint)
    },
  }
  return { steps, log, store }
}

describe('mongoChangeStream', () => {
  test('maps each change (async, to zero, one or many events) and logs them under keys from the resume token', async () => {
    const f = await setup({
      map: async (change: ChangeStreamDocument) => {
        await new Promise((resolve) => setTimeout(resolve, 1))
        if (change.operationType !== 'insert') return null
        const { n, fan } = change.fullDocument as { n: number; fan?: number }
        if (fan === undefined) return postMap(change)
        return range(1, fan).map((i) => ({ type: 'post', topic: `fan:${i}`, data: { n, i } }))
      },
    })
    await running(f.source)
    await f.posts.insertOne({ n: 1 })
    await f.posts.insertOne({ n: 2, skip: true })
    await f.posts.insertOne({ n: 3, fan: 3 })
    await f.posts.insertOne({ n: 4 })
    await eventually(async () => (await f.entries()).length === 5, { what: '5 entries' })
    const entries = await f.entries()
    expect(entries.map((e) => [e.topic, e.data])).toEqual([
      ['posts', { n: 1 }],
      ['fan:1', { n: 3, i: 1 }],
      ['fan:2', { n: 3, i: 2 }],
      ['fan:3', { n: 3, i: 3 }],
      ['posts', { n: 4 }],
    ])
    const keys = entries.map((e) => e.key as string)
    const pattern = new RegExp(`^${f.source.name.replace(/\./g, '\\.')}:([0-9a-fA-F]+):(\\d)$`)
    const parsed = keys.map((k) => pattern.exec(k))
    expect(parsed.every((m) => m !== null)).toBe(true)
    // The three events of one change share its token and differ by index.
    expect(parsed.slice(1, 4).map((m) => m?.[1])).toEqual([parsed[1]?.[1], parsed[1]?.[1], parsed[1]?.[1]])
    expect(parsed.slice(1, 4).map((m) => m?.[2])).toEqual(['0', '1', '2'])
    expect(new Set(parsed.map((m) => m?.[1])).size).toBe(3)
  })

  test('persists the token only after the events of its change are logged', async () => {
    const client = await target.client()
    const { steps, log, store } = timeline(mongoTokenStore(client.db(target.dbName())))
    const f = await setup({ log, tokens: store, checkpointMs: 60_000 })
    await running(f.source)
    await insertNs(f.posts, range(1, 5))
    await eventually(async () => (await f.ns()).length === 5, { what: '5 events' })
    await eventually(() => {
      const last = steps.findLast((s) => s.startsWith('append'))
      return last !== undefined && steps.indexOf(last) < steps.length - 1
    })
    // Every append is followed by a save of a token at or after its change before any later change is read.
    for (const [i, step] of steps.entries()) {
      if (!step.startsWith('append')) continue
      const data = /:([0-9a-fA-F]+):\d+$/.exec(step)?.[1] as string
      const laterSave = steps.slice(i + 1).find((s) => s.startsWith('save'))
      expect(laterSave, `a save follows ${step}`).toBeDefined()
      expect((laterSave as string).slice(5) >= data).toBe(true)
      const earlierSaves = steps.slice(0, i).filter((s) => s.startsWith('save'))
      for (const save of earlierSaves) expect(save.slice(5) < data, `${save} before ${step}`).toBe(true)
    }
  })

  test('stop() and start() at run time: changes made while stopped arrive once, resumed with startAfter', async () => {
    const f = await setup()
    await running(f.source)
    await insertNs(f.posts, [1, 2])
    await eventually(async () => (await f.ns()).length === 2)
    await f.source.stop()
    expect(f.source.status().state).toBe('stopped')
    expect(f.hub.stats().sources[0]?.state).toBe('stopped')
    const saved = (await f.tokens.load(f.source.name)) as Checkpoint
    await insertNs(f.posts, [3, 4])
    const opened = f.streamStages().length
    await f.source.start()
    await running(f.source)
    await insertNs(f.posts, [5])
    await eventually(async () => (await f.ns()).length === 5)
    expect(await f.ns()).toEqual([1, 2, 3, 4, 5])
    if (target.sim) expect(f.streamStages()[opened]).toMatchObject({ startAfter: saved.token })
  })

  test('a change read again after a crash before its token was saved is logged once', async () => {
    const client = await target.client()
    const real = mongoTokenStore(client.db(target.dbName()))
    let frozen = false
    const tokens: TokenStore = { ...real, save: (name, cp) => (frozen ? Promise.resolve() : real.save(name, cp)) }
    const f = await setup({ tokens })
    await running(f.source)
    await insertNs(f.posts, [1])
    await eventually(async () => (await f.ns()).length === 1)
    await eventually(async () => (await real.load(f.source.name)) !== null)
    frozen = true // the process "dies" after logging 2 and 3, before saving their token
    await insertNs(f.posts, [2, 3])
    await eventually(async () => (await f.ns()).length === 3)
    await f.source.stop()
    frozen = false
    // A new process: a new source under the same name (the old one remembers what it logged).
    const again = mongoChangeStream({
      collection: f.posts,
      tokens,
      name: f.source.name,
      map: postMap,
      checkpointMs: 50,
      maxAwaitTimeMS: 200,
    })
    await f.hub.attach(again)
    await running(again)
    await insertNs(f.posts, [4])
    await eventually(async () => (await f.ns()).length >= 4)
    expect(await f.ns()).toEqual([1, 2, 3, 4])
    // It did read 2 and 3 again: the stored token was from before them.
    expect(f.hub.stats().published).toBeGreaterThanOrEqual(6)
  })

  test('without a token it starts now; with startAtOperationTime it starts there', async () => {
    const f = await setup({ attach: false })
    const raw = f.posts.watch()
    await raw.tryNext()
    await f.posts.insertOne({ n: 1 })
    const first = (await raw.next()) as ChangeStreamDocument & { clusterTime: Timestamp }
    await raw.close()
    await f.posts.insertOne({ n: 2 })

    await f.hub.attach(f.source)
    await running(f.source)
    await f.posts.insertOne({ n: 3 })
    await eventually(async () => (await f.ns()).length === 1)
    expect(await f.ns()).toEqual([3])

    // A second hub with its own source on the same collection, from the first change's time.
    const g = await setup({
      collection: f.posts,
      name: 'from-op-time',
      tokens: memoryTokenStore(),
      startAtOperationTime: first.clusterTime,
    })
    await eventually(async () => (await g.ns()).length === 3)
    expect(await g.ns()).toEqual([1, 2, 3])
    const stages = (target.sim?.commands ?? [])
      .filter((c) => c.name === 'aggregate' && c.db === f.db.databaseName)
      .map((c) => (c.body.pipeline as Record<string, Record<string, unknown>>[])[0]?.$changeStream)
    if (target.sim) expect(stages.some((s) => s?.startAtOperationTime !== undefined)).toBe(true)
  })

  test('a quiet filtered stream keeps moving its stored checkpoint', async () => {
    const f = await setup({ pipeline: [{ $match: { 'fullDocument.wanted': true } }], checkpointMs: 20 })
    await running(f.source)
    const stored = async () => (await f.tokens.load(f.source.name))?.token._data as string | undefined
    const before = await eventually(stored, { what: 'a first checkpoint' })
    // A second stream sees the filtered-out changes, for their tokens.
    const raw = f.posts.watch()
    await raw.tryNext()
    for (let i = 0; i < 20; i++) await f.posts.insertOne({ n: i, wanted: false })
    let lastFiltered: string | undefined
    for (let i = 0; i < 20; i++) lastFiltered = ((await raw.next())._id as { _data: string })._data
    await raw.close()
    const after = await eventually(async () => {
      const now = await stored()
      return now !== undefined && now >= (lastFiltered as string) ? now : undefined
    })
    expect(after > before).toBe(true)
    expect(await f.entries()).toEqual([])
    // The checkpoint document itself moved (asserted on the collection, not through the store).
    const doc = await f.db.collection('rt_tokens').findOne({ _id: f.source.name as never })
    const storedData = (doc?.token as { _data?: string } | undefined)?._data ?? ''
    expect(storedData >= (lastFiltered as string)).toBe(true)
  })

  test('status: state, last token time, last change time and lag reach hub.stats() and the health report', async () => {
    const f = await setup()
    expect(['starting', 'running']).toContain(f.hub.stats().sources[0]?.state)
    await running(f.source)
    const t0 = Date.now()
    await f.posts.insertOne({ n: 1 })
    await eventually(async () => (await f.ns()).length === 1)
    await eventually(() => (f.source.status().lastTokenAt ?? 0) >= t0)
    const { status, report } = healthReport(f.hub)
    expect(status).toBe(200)
    const entry = report.sources[0] as unknown as Record<string, unknown>
    expect(entry).toMatchObject({ name: f.source.name, state: 'running', restarts: 0 })
    expect(entry.lastTokenAt).toBeGreaterThanOrEqual(t0)
    expect(entry.lastEventAt).toBeGreaterThanOrEqual(t0)
    expect(entry.lastChangeAt).toBeGreaterThanOrEqual(t0 - 1_000)
    expect(entry.lagMs).toBeGreaterThanOrEqual(0)
    expect(entry.lagMs).toBeLessThan(5_000)
    expect(JSON.parse(JSON.stringify(report)).sources[0].lastTokenAt).toBe(entry.lastTokenAt)
  })

  test('hub.close() stops the source and its cursor', async () => {
    const f = await setup()
    await running(f.source)
    await f.hub.close()
    expect(f.source.status().state).toBe('stopped')
    if (target.sim) {
      await eventually(() => f.commands('killCursors').length > 0, { what: 'killCursors' })
      const getMores = f.commands('getMore').length
      // Nothing more may happen, and no event can show that: watch the command log a while.
      await new Promise((resolve) => setTimeout(resolve, 400))
      expect(f.commands('getMore').length).toBe(getMores)
    }
  })

  test('a database-wide stream and the default name', async () => {
    const client = await target.client()
    const db = client.db(target.dbName())
    const log = memoryLog()
    const origin = log.head()
    const { createHub } = await import('@rt/server')
    const hub = createHub({ log })
    const { mongoChangeStream } = await import('./change-stream.js')
    const seen: string[] = []
    const source = mongoChangeStream({
      db,
      maxAwaitTimeMS: 200,
      map: (change) => {
        if (!('ns' in change) || change.operationType !== 'insert') return null
        seen.push(`${change.ns.coll}`)
        return { type: 'doc', topic: `coll:${change.ns.coll}`, data: change.documentKey._id }
      },
    })
    expect(source.name).toBe(`mongo:${db.databaseName}`)
    await hub.attach(source)
    await running(source)
    await db.collection('a').insertOne({ _id: 1 as never })
    await db.collection('b').insertOne({ _id: 2 as never })
    await eventually(async () => {
      const page = await log.read(origin, 10)
      return page.ok && page.entries.length === 2
    })
    const page = await log.read(origin, 10)
    expect(page.ok && page.entries.map((e: LogEntry) => [e.topic, e.data])).toEqual([
      ['coll:a', 1],
      ['coll:b', 2],
    ])
    await hub.close()
  })
})
