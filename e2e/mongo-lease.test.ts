/**
 * Done-when 3 of the MongoDB issue: two hub processes share a mongoLog; exactly one runs the
 * change stream; SIGKILL it and the other takes over within the lease TTL; clients on
 * either node see every change exactly once.
 */
import { afterAll, beforeAll, expect, test } from 'vitest'
import { eventually, type MongoTarget, mongoTarget } from '../packages/server/test/mongo-support/target.js'
import { type HubProcess, spawnHub } from './fixtures/spawn-hub.js'
import { appEvents, openSse, type SseStream } from './support/sse.js'

let target: MongoTarget
beforeAll(async () => {
  target = await mongoTarget()
})
afterAll(() => target.close())

const TTL = 1_500
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface SourceHealth {
  state: string
  leader?: boolean
}

async function sourceOf(hub: HubProcess): Promise<SourceHealth> {
  const health = (await (await fetch(hub.health)).json()) as { sources: SourceHealth[] }
  return health.sources[0] as SourceHealth
}

const nsOf = (...streams: SseStream[]) =>
  streams.flatMap((s) => appEvents(s.events).map((e) => (e.data as { n: number }).n))

test('two hubs on one mongoLog: one watches; SIGKILL it and the other takes over within the TTL, losing and doubling nothing', async () => {
  const dbName = target.dbName()
  const env = { MONGO_URI: target.uri, MONGO_DB: dbName, RT_LOG: 'mongo', LEASE_TTL_MS: String(TTL) }
  const posts = (await target.client()).db(dbName).collection('posts')
  const hubs: HubProcess[] = []
  const streams: SseStream[] = []
  let writing = true
  let n = 0
  let writes: Promise<void> = Promise.resolve()
  try {
    const a = await spawnHub({ ...env, HOLDER: 'a' })
    hubs.push(a)
    await eventually(async () => (await sourceOf(a)).state === 'running', { what: 'a running' })
    const b = await spawnHub({ ...env, HOLDER: 'b' })
    hubs.push(b)
    await eventually(async () => (await sourceOf(b)).state === 'standby', { what: 'b standby' })

    const onA = await openSse(`${a.url}?topics=posts`)
    const onB = await openSse(`${b.url}?topics=posts`)
    streams.push(onA, onB)
    await Promise.all([onA, onB].map((s) => s.until((e) => e.some((x) => x.event === 'rt.connected'))))
    writes = (async () => {
      while (writing) {
        await posts.insertOne({ n: ++n })
        await sleep(2 + Math.random() * 6)
      }
    })()

    // Exactly one of them watches, all along.
    for (let i = 0; i < 5; i++) {
      expect([(await sourceOf(a)).state, (await sourceOf(b)).state]).toEqual(['running', 'standby'])
      await sleep(100)
    }
    await onB.until((e) => appEvents(e).length > 20)

    await a.kill()
    const killed = Date.now()
    await eventually(async () => (await sourceOf(b)).state === 'running', { what: 'b takes over', intervalMs: 25 })
    const takeover = Date.now() - killed
    // The lease outlives its holder by at most the TTL; b tries every TTL / 3. Four times that
    // bound, for a busy machine: what matters is that the TTL, not something slower, drives it.
    expect(takeover).toBeLessThan(4 * (TTL + TTL / 3))
    expect((await sourceOf(b)).leader).toBe(true)

    // a's client resumes on b with the id a gave it: ids are shared.
    await onA.ended
    const moved = await openSse(`${b.url}?topics=posts`, { lastEventId: onA.lastEventId as string })
    streams.push(moved)
    // Keep writing until the moved client is live on b.
    await moved.until((events) => appEvents(events).length >= 5, 20_000)
    writing = false
    await writes
    const last = n
    const hasLast = (events: Parameters<typeof appEvents>[0]) =>
      appEvents(events).some((e) => (e.data as { n: number }).n === last)
    await onB.until(hasLast, 15_000)
    await moved.until(hasLast, 15_000)
    const all = Array.from({ length: last }, (_, i) => i + 1)
    const context = `killed after ${nsOf(onA).length} changes; takeover ${takeover} ms`
    expect(nsOf(onB), context).toEqual(all)
    expect(nsOf(onA, moved), context).toEqual(all)
    expect(moved.events.some((e) => e.event === 'rt.reset')).toBe(false)
    const lease = await posts.db.collection('rt_tokens').findOne({ _id: { $regex: /posts$/ } as never })
    expect(lease?.lease).toMatchObject({ holder: 'b' })
  } finally {
    writing = false
    await writes.catch(() => {})
    for (const stream of streams) stream.close()
    for (const hub of hubs) await hub.kill()
  }
})
