import { createHub, type Hub, type Log } from '@rt/server'
import type { Db, MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { postMap } from '../../test/mongo-support/fixture.js'
import { eventually, type MongoTarget, mongoTarget } from '../../test/mongo-support/target.js'
import { type MongoChangeStreamSource, mongoChangeStream } from './change-stream.js'
import { mongoLog } from './mongo-log.js'
import { mongoTokenStore } from './mongo-token-store.js'

let target: MongoTarget
beforeAll(async () => {
  target = await mongoTarget()
})
afterAll(() => target.close())

interface Node {
  readonly client: MongoClient
  readonly log: Log
  readonly hub: Hub
  readonly source: MongoChangeStreamSource
}

const TTL = 1_200
/** Bounds on wall time are multiples of the configured values: generous on a loaded machine. */
const TAKEOVER_BOUND = 4 * (TTL + TTL / 3)

async function node(dbName: string, holder: string, ttlMs = TTL, renewMs = TTL / 3): Promise<Node> {
  const client = await target.client()
  const db = client.db(dbName)
  const log = await mongoLog({ db, pollMs: 50 })
  const hub = createHub({ log })
  const source = mongoChangeStream({
    collection: db.collection('posts'),
    tokens: mongoTokenStore(db),
    map: postMap,
    lease: { ttlMs, renewMs, holder },
    checkpointMs: 50,
    maxAwaitTimeMS: 200,
    backoff: { initialMs: 20, maxMs: 100 },
  })
  await hub.attach(source)
  return { client, log, hub, source }
}

const states = (nodes: Node[]) => nodes.map((n) => n.hub.stats().sources[0]?.state)

async function ns(log: Log): Promise<number[]> {
  const page = await log.read(log.head().replace(/-\d+$/, '-0'), 10_000)
  if (!page.ok) throw new Error(page.reason)
  return page.entries.filter((e) => e.type === 'post').map((e) => (e.data as { n: number }).n)
}

describe('mongoChangeStream with a lease', () => {
  test('one node watches; when it loses the database another takes over within the TTL; nothing lost or doubled', async () => {
    const dbName = target.dbName()
    const nodes = [await node(dbName, 'a'), await node(dbName, 'b')]
    const [a, b] = nodes as [Node, Node]
    await eventually(() => states(nodes).includes('running'))
    expect(states(nodes)).toEqual(['running', 'standby'])
    expect(a.source.status().leader).toBe(true)
    expect(b.source.status().leader).toBe(false)

    const writer = (await target.client()).db(dbName).collection('posts')
    let n = 0
    const write = async (count: number) => {
      for (let i = 0; i < count; i++) await writer.insertOne({ n: ++n })
    }
    await write(10)
    await eventually(async () => (await ns(b.log)).length === 10)

    // Holder cut off: its renewals fail, it stands down before its lease can expire, b takes over.
    const cut = Date.now()
    await a.client.close(true)
    const writing = write(20)
    await eventually(() => b.source.status().state === 'running', { what: 'takeover' })
    const takeover = Date.now() - cut
    // The TTL drives it: one expiry plus one retry (TTL / 3), four times over for a busy machine.
    expect(takeover).toBeLessThan(TAKEOVER_BOUND)
    expect(b.source.status().leader).toBe(true)
    await eventually(() => a.source.status().state === 'standby', { what: 'a stands down' })
    await writing
    await eventually(async () => (await ns(b.log)).length >= 30, { what: 'all 30 changes' })
    expect(await ns(b.log)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))

    await a.hub.close().catch(() => {})
    await b.hub.close()
    expect(b.source.status().state).toBe('stopped')
  })

  test('a clean stop hands the lease over at once', async () => {
    const dbName = target.dbName()
    // A lease far longer than any wait here, retried every 100 ms: b can only take over
    // because a released it.
    const nodes = [await node(dbName, 'a', 600_000, 100), await node(dbName, 'b', 600_000, 100)]
    const [a, b] = nodes as [Node, Node]
    await eventually(() => states(nodes).includes('running'))
    await a.hub.close()
    await eventually(() => b.source.status().state === 'running', { what: 'b takes the released lease' })
    const db: Db = b.client.db(dbName)
    expect(await db.collection('rt_tokens').findOne({ _id: b.source.name as never })).toMatchObject({
      lease: { holder: 'b' },
    })
    await b.hub.close()
    expect((await db.collection('rt_tokens').findOne({ _id: b.source.name as never }))?.lease).toBeUndefined()
  })
})
