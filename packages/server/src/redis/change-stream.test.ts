/**
 * The multi-node wiring for a database feed: two nodes share a `redisLog`, each attaches the
 * same `mongoChangeStream` with a `redisTokenStore` lease, so one watches and the other
 * stands by and takes over from the saved position, with nothing lost or logged twice.
 */
import type { MongoClient } from 'mongodb'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { postMap } from '../../test/mongo-support/fixture.js'
import { eventually, type MongoTarget, mongoTarget } from '../../test/mongo-support/target.js'
import { dropKeys, REDIS_URL, testPrefix } from '../../test/redis-support.js'
import { createHub, type Hub } from '../core/hub.js'
import type { Log } from '../core/log.js'
import { type MongoChangeStreamSource, mongoChangeStream } from '../mongo/change-stream.js'
import { redisLog } from './stream-log.js'
import { type RedisTokenStore, redisTokenStore } from './token-store.js'

let target: MongoTarget
beforeAll(async () => {
  target = await mongoTarget()
})
afterAll(() => target.close())

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

interface Node {
  readonly client: MongoClient
  readonly log: Log
  readonly hub: Hub
  readonly tokens: RedisTokenStore
  readonly source: MongoChangeStreamSource
}

const TTL = 1_200

async function node(dbName: string, prefix: string, holder: string): Promise<Node> {
  const client = await target.client()
  const db = client.db(dbName)
  const log = await redisLog({ url: REDIS_URL, stream: `${prefix}:events` })
  const tokens = await redisTokenStore({ url: REDIS_URL }, { prefix: `${prefix}:tokens` })
  const hub = createHub({ log })
  const source = mongoChangeStream({
    collection: db.collection('posts'),
    tokens,
    map: postMap,
    lease: { ttlMs: TTL, holder },
    checkpointMs: 50,
    maxAwaitTimeMS: 200,
    backoff: { initialMs: 20, maxMs: 100 },
  })
  await hub.attach(source)
  cleanups.push(async () => {
    await hub.close().catch(() => {})
    await tokens.close()
  })
  return { client, log, hub, tokens, source }
}

const states = (nodes: Node[]) => nodes.map((n) => n.hub.stats().sources[0]?.state)

/** The `n` of every post event in the shared log, in log order. */
async function ns(log: Log): Promise<number[]> {
  const origin = log.head().replace(/\.[^.]*$/, '.0-0')
  const out: number[] = []
  let cursor = origin
  for (;;) {
    const page = await log.read(cursor, 500)
    if (!page.ok) throw new Error(page.reason)
    for (const entry of page.entries) if (entry.type === 'post') out.push((entry.data as { n: number }).n)
    cursor = page.entries.at(-1)?.id ?? cursor
    if (!page.more) return out
  }
}

describe('mongoChangeStream on redisLog with a redisTokenStore lease', () => {
  test('one node watches; when it loses Redis the other takes over from the saved position', async () => {
    const prefix = testPrefix('cs')
    cleanups.push(() => dropKeys(prefix))
    const dbName = target.dbName()
    const nodes = [await node(dbName, prefix, 'a'), await node(dbName, prefix, 'b')]
    const [a, b] = nodes as [Node, Node]
    await eventually(() => states(nodes).includes('running'), { what: 'a leader' })
    expect(states(nodes)).toEqual(['running', 'standby'])

    const writer = (await target.client()).db(dbName).collection('posts')
    let n = 0
    const write = async (count: number) => {
      for (let i = 0; i < count; i++) await writer.insertOne({ n: ++n })
    }
    await write(10)
    // Appended by a, read on b: one shared log.
    await eventually(async () => (await ns(b.log)).length === 10, { what: '10 changes on b' })

    // The holder's lease connection is gone: it cannot renew, stands down, b takes over.
    const cut = Date.now()
    await a.tokens.close()
    const writing = write(20)
    await eventually(() => b.source.status().state === 'running', { what: 'takeover' })
    expect(Date.now() - cut).toBeLessThan(TTL + TTL / 3 + 1_000)
    await eventually(() => a.source.status().state !== 'running', { what: 'a stands down' })
    await writing
    await eventually(async () => (await ns(b.log)).length >= 30, { what: 'all 30 changes' })
    expect(await ns(b.log)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
    expect(await ns(a.log)).toEqual(await ns(b.log))
  })
})
