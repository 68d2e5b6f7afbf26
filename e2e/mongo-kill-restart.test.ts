/**
 * Done-when 2 of the MongoDB issue: the hub process is SIGKILLed at random points while
 * changes flow; after each restart a client resumes with its Last-Event-ID. With mongoLog it
 * sees every change exactly once; with memoryLog it is told rt.reset; never a silent gap.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { eventually, type MongoTarget, mongoTarget } from '../packages/server/test/mongo-support/target.js'
import { type HubProcess, spawnHub } from './fixtures/spawn-hub.js'
import { appEvents, openSse, type SseStream } from './support/sse.js'

let target: MongoTarget
beforeAll(async () => {
  target = await mongoTarget()
})
afterAll(() => target.close())

const KILLS = 3
const AHEAD = 100
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const between = (min: number, max: number) => Math.round(min + Math.random() * (max - min))

async function sourceRunning(hub: HubProcess): Promise<void> {
  await eventually(
    async () => {
      const health = (await (await fetch(hub.health)).json()) as { sources: { state: string }[] }
      return health.sources[0]?.state === 'running'
    },
    { what: 'the change stream running' },
  )
}

const nsOf = (stream: SseStream) => appEvents(stream.events).map((e) => (e.data as { n: number }).n)

describe.each(['mongo', 'memory'] as const)('%s log', (kind) => {
  test(`SIGKILL ${KILLS} times while changes flow; resuming clients never see a silent gap`, async () => {
    const dbName = target.dbName()
    const env = { MONGO_URI: target.uri, MONGO_DB: dbName, RT_LOG: kind }
    const posts = (await target.client()).db(dbName).collection('posts')
    const delays: number[] = []
    let hub = await spawnHub(env)
    const streams: SseStream[] = []
    let writing = true
    let n = 0
    let writes: Promise<void> = Promise.resolve()
    let lastEventId: string | undefined
    try {
      await sourceRunning(hub)
      streams.push(await openSse(`${hub.url}?topics=posts`))
      await (streams[0] as SseStream).until((events) => events.some((e) => e.event === 'rt.connected'))
      // The writer stays at most AHEAD changes past what the clients have received, so the
      // backlog each restart replays is sized by the test, not by how slow the machine is.
      const received = () => Math.max(0, ...streams.flatMap(nsOf))
      // A client reset by a restarted in-memory hub is at that hub's head: the backlog the
      // source logged before it connected is behind it, and only new changes reach it. Waiting
      // for it to receive something would wait forever.
      const resetAndWaiting = () => {
        const latest = streams.at(-1) as SseStream
        return latest.events.some((e) => e.event === 'rt.reset') && nsOf(latest).length === 0
      }
      writes = (async () => {
        while (writing) {
          if (n - received() >= AHEAD && !resetAndWaiting()) {
            await sleep(5)
            continue
          }
          await posts.insertOne({ n: ++n })
          await sleep(between(1, 6))
        }
      })()
      for (let k = 0; k < KILLS; k++) {
        const delay = between(150, 700)
        delays.push(delay)
        await sleep(delay)
        await hub.kill()
        const previous = streams.at(-1) as SseStream
        await previous.ended
        // Like EventSource, keep the last id seen on any stream (a short one may have seen none).
        lastEventId = previous.lastEventId ?? lastEventId
        hub = await spawnHub(env)
        const next = await openSse(`${hub.url}?topics=posts`, { lastEventId: lastEventId as string })
        expect(next.status).toBe(200)
        streams.push(next)
      }
      // Keep writing until the last restarted hub's client is live.
      await (streams.at(-1) as SseStream).until((events) => appEvents(events).length >= 5, 20_000)
      writing = false
      await writes
      const last = n
      const current = streams.at(-1) as SseStream
      await current.until((events) => appEvents(events).some((e) => (e.data as { n: number }).n === last), 20_000)
      const context = `kill delays ${delays.join(', ')} ms; ${last} changes`

      if (kind === 'mongo') {
        // Durable log: the concatenation of every stream is every change, once, in order.
        for (const stream of streams) expect(stream.events.some((e) => e.event === 'rt.reset')).toBe(false)
        expect(streams.flatMap(nsOf), context).toEqual(Array.from({ length: last }, (_, i) => i + 1))
      } else {
        // In-memory log: each restarted process tells the resuming client to refetch first.
        for (const stream of streams.slice(1)) {
          const control = stream.events.filter((e) => e.event.startsWith('rt.')).map((e) => e.event)
          expect(control.slice(0, 2), context).toEqual(['rt.connected', 'rt.reset'])
          expect(JSON.parse(stream.events[1]?.data as string)).toMatchObject({ reason: 'unknown' })
        }
        // Within one stream (no reset in between) changes are consecutive: no silent gap.
        for (const stream of streams) {
          const ns = nsOf(stream)
          for (let i = 1; i < ns.length; i++) expect(ns[i], context).toBe((ns[i - 1] as number) + 1)
        }
        expect(nsOf(streams[0] as SseStream)[0], context).toBe(1)
      }
    } finally {
      writing = false
      await writes.catch(() => {})
      for (const stream of streams) stream.close()
      await hub.kill()
    }
    // Four hub processes start in this test (about 2 s each alone, several times that on a
    // loaded machine); each wait above is bounded at 20 s, well inside this timeout.
  }, 120_000)
})
