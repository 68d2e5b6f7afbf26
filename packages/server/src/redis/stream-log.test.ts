import fc from 'fast-check'
import { afterEach, describe, expect, test } from 'vitest'
import {
  appendPositions,
  fill,
  filterAppends,
  filteredReadsAgree,
  filterReads,
  ok,
  watch,
} from '../../test/log-support.js'
import { dropKeys, interceptCommands, REDIS_URL, redisClient, testPrefix } from '../../test/redis-support.js'
import { isRtError } from '../core/errors.js'
import type { Log } from '../core/log.js'
import { memoryLog } from '../core/memory-log.js'
import type { RedisLike } from './client.js'
import { type RedisLogOptions, redisLog } from './stream-log.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A fresh stream name; its keys are dropped after the test. */
function freshStream(): string {
  const stream = testPrefix('log')
  cleanups.push(() => dropKeys(stream))
  return stream
}

async function open(stream: string, options: RedisLogOptions = {}): Promise<Log> {
  const log = await redisLog({ url: REDIS_URL, stream }, options)
  cleanups.push(async () => log.close?.())
  return log
}

/** Entries told to the log's listeners, and a way to wait for them. */

const epochOf = (log: Log) => log.head().slice(0, log.head().lastIndexOf('.'))

describe('redisLog', () => {
  test('ids are <epoch>.<ms>-<seq>; head is <epoch>.0-0 when empty, then the newest told id', async () => {
    const log = await open(freshStream())
    const epoch = epochOf(log)
    expect(epoch).toMatch(/^[0-9a-z]+$/)
    expect(log.head()).toBe(`${epoch}.0-0`)
    const seen = watch(log)
    const before = Date.now()
    const [a, b] = await fill(log, 2)
    expect(a?.id).toMatch(new RegExp(`^${epoch}\\.\\d+-1$`))
    expect(b?.id).toMatch(new RegExp(`^${epoch}\\.\\d+-2$`))
    expect(a).toMatchObject({ type: 'm', topic: 't', data: 0 })
    expect(a?.ts).toBeGreaterThanOrEqual(before - 1_000)
    await seen.until(() => seen.told.length === 2)
    expect(seen.told.map((e) => [e.id, e.data, e.ts])).toEqual([
      [a?.id, 0, a?.ts],
      [b?.id, 1, b?.ts],
    ])
    expect(log.head()).toBe(b?.id)
  })

  test('two nodes on one stream share epoch and ids and tell every entry in the same order', async () => {
    const stream = freshStream()
    const [a, b] = [await open(stream), await open(stream)]
    expect(epochOf(a)).toBe(epochOf(b))
    const [seenA, seenB] = [watch(a), watch(b)]
    // Interleaved appends from both nodes, with targeting and odd payloads.
    await Promise.all([
      fill(a, 20, { to: ['u1', 'u2'] }),
      fill(b, 20, { data: { text: 'héllo\n"quoted"', n: [1, null] } }),
    ])
    await seenA.until(() => seenA.told.length === 40)
    await seenB.until(() => seenB.told.length === 40)
    expect(seenA.told.map((e) => e.id)).toEqual(seenB.told.map((e) => e.id))
    expect(seenA.told).toEqual(seenB.told)
    const seqs = seenA.told.map((e) => Number(e.id.slice(e.id.lastIndexOf('-') + 1)))
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
    expect(seenA.told.find((e) => e.to !== undefined)?.to).toEqual(['u1', 'u2'])
    expect(seenA.told.find((e) => typeof e.data === 'object')?.data).toEqual({ text: 'héllo\n"quoted"', n: [1, null] })
    // Another stream is another log.
    expect(epochOf(await open(freshStream()))).not.toBe(epochOf(a))
  })

  test('read pages with `more`, from memory and from the stream alike', async () => {
    const stream = freshStream()
    const writer = await open(stream)
    const seen = watch(writer)
    await fill(writer, 7)
    await seen.until(() => seen.told.length === 7)
    // A node started now holds nothing in memory: every read goes to Redis.
    const late = await open(stream, { cache: 3 })
    const epoch = epochOf(writer)
    for (const log of [writer, late]) {
      const first = ok(await log.read(`${epoch}.0-0`, 3))
      expect(first.entries.map((e) => e.data)).toEqual([0, 1, 2])
      expect(first.more).toBe(true)
      const second = ok(await log.read(first.entries[2]?.id as string, 3))
      expect(second.entries.map((e) => e.data)).toEqual([3, 4, 5])
      expect(second.more).toBe(true)
      const third = ok(await log.read(second.entries[2]?.id as string, 3))
      expect(third.entries.map((e) => e.data)).toEqual([6])
      expect(third.more).toBe(false)
      expect(ok(await log.read(seen.told[6]?.id as string, 3))).toEqual({ ok: true, entries: [], more: false })
      // Exactly `limit` left: no further page.
      expect(ok(await log.read(seen.told[3]?.id as string, 3)).more).toBe(false)
    }
    // The late node's memory fills as it tails; reads that reach it are answered from it.
    const lateSeen = watch(late)
    const more = await fill(writer, 5)
    await lateSeen.until(() => lateSeen.told.length === 5)
    const tail = ok(await late.read(more[1]?.id as string, 10))
    expect(tail.entries.map((e) => e.data)).toEqual([2, 3, 4])
    expect(tail.entries[0]).toBe(lateSeen.told[2])
    const across = ok(await late.read(seen.told[5]?.id as string, 10))
    expect(across.entries.map((e) => e.data)).toEqual([6, 0, 1, 2, 3, 4])
  })

  test('trimmed ids are evicted; retained ones still resume', async () => {
    const stream = freshStream()
    const log = await open(stream, { maxLen: 10, cache: 1 })
    const seen = watch(log)
    const entries = await fill(log, 300)
    await seen.until(() => seen.told.length === 300)
    const client = await redisClient()
    const length = (await client.sendCommand(['XLEN', stream])) as number
    client.destroy()
    // MAXLEN ~ trims whole nodes: somewhat more than 10 may stay, far fewer than 300.
    expect(length).toBeGreaterThanOrEqual(10)
    expect(length).toBeLessThan(300)
    const epoch = epochOf(log)
    expect(await log.read(`${epoch}.0-0`, 10)).toEqual({ ok: false, reason: 'evicted' })
    expect(await log.read(entries[0]?.id as string, 10)).toEqual({ ok: false, reason: 'evicted' })
    const oldestKept = 300 - length
    // Resuming right before the oldest kept entry needs nothing that is gone.
    const page = ok(await log.read(entries[oldestKept - 1]?.id as string, 5))
    expect(page.entries.map((e) => e.data)).toEqual([
      oldestKept,
      oldestKept + 1,
      oldestKept + 2,
      oldestKept + 3,
      oldestKept + 4,
    ])
    expect(await log.read(entries[oldestKept - 2]?.id as string, 5)).toEqual({ ok: false, reason: 'evicted' })
  })

  test('trimming by age', async () => {
    const stream = freshStream()
    const log = await open(stream, { maxAgeMs: 1, maxLen: 1_000_000 })
    const old = await fill(log, 150)
    // The next append trims what is older than 1 ms before it (whole stream nodes of 100).
    await expect.poll(() => Date.now()).toBeGreaterThan((old[149]?.ts ?? 0) + 5)
    const [last] = await fill(log, 1)
    // A node that holds nothing in memory answers from the stream.
    const reader = await open(stream, { cache: 1 })
    expect(await reader.read(`${epochOf(log)}.0-0`, 10)).toEqual({ ok: false, reason: 'evicted' })
    expect(await reader.read(old[98]?.id as string, 10)).toEqual({ ok: false, reason: 'evicted' })
    expect(ok(await reader.read(old[149]?.id as string, 10)).entries.map((e) => e.id)).toEqual([last?.id])
    // A node that still holds trimmed entries in memory may serve them: nothing is lost.
    expect(ok(await log.read(old[0]?.id as string, 1)).entries.map((e) => e.id)).toEqual([old[1]?.id])
  })

  test('malformed ids', async () => {
    const log = await open(freshStream())
    await fill(log, 2)
    const epoch = epochOf(log)
    const malformed = [
      '',
      'garbage',
      '42',
      '-1',
      `${epoch}.1-`,
      `${epoch}.1-x`,
      `${epoch}.x-1`,
      `${epoch}.-1`,
      `${epoch}.1-1.5`,
      `${epoch}.1-+1`,
      `${epoch}.1e3-1`,
      `${epoch}.1-1234567890123456`,
      `${epoch}.1-1\n`,
      `${epoch}.1\r-1`,
    ]
    for (const id of malformed) expect([id, await log.read(id, 10)]).toEqual([id, { ok: false, reason: 'malformed' }])
  })

  test('unknown ids: another stream, another kind of log, beyond the newest entry, or a mangled position', async () => {
    const log = await open(freshStream(), { catchUpMs: 200 })
    const other = await open(freshStream())
    const [foreign] = await fill(other, 1)
    const [a, b] = await fill(log, 2)
    const epoch = epochOf(log)
    const first = a?.id ?? ''
    const ms = first.slice(epoch.length + 1, first.lastIndexOf('-'))
    const unknown = [
      foreign?.id as string,
      (await memoryLog().append({ type: 'm', topic: 't', data: 1 })).id,
      `zz${epoch}.${ms}-1`,
      `${epoch}.${ms}-3`,
      `${epoch}.${ms}-999999999999999`,
      // Seq 1 exists, but not at this time.
      `${epoch}.${Number(ms) + 7}-1`,
    ]
    for (const id of unknown) expect([id, await log.read(id, 10)]).toEqual([id, { ok: false, reason: 'unknown' }])
    expect(ok(await log.read(b?.id as string, 10)).entries).toEqual([])
  })

  test('a duplicate key returns the first entry, is stored and told once, and is free again once trimmed', async () => {
    const stream = freshStream()
    const log = await open(stream, { maxLen: 5 })
    const other = await open(stream)
    const seen = watch(log)
    const first = await log.append({ type: 'm', topic: 't', data: 'first', key: 'k' })
    const [again, fromOther] = await Promise.all([
      log.append({ type: 'other', topic: 'u', data: 2, key: 'k' }),
      other.append({ type: 'other', topic: 'u', data: 3, key: 'k' }),
    ])
    expect(again.id).toBe(first.id)
    expect(again).toMatchObject({ type: 'm', topic: 't', data: 'first', key: 'k' })
    expect(fromOther).toMatchObject({ id: first.id, data: 'first' })
    const [plain] = await fill(log, 1)
    await seen.until(() => seen.told.length === 2)
    expect(seen.told.map((e) => e.id)).toEqual([first.id, plain?.id])
    // Trim the first entry away (MAXLEN ~ drops whole nodes: append well past them).
    await fill(log, 250)
    await seen.until(() => seen.told.length === 252)
    const reader = await open(stream, { cache: 1 })
    expect(await reader.read(first.id, 1)).toEqual({ ok: false, reason: 'evicted' })
    const second = await log.append({ type: 'm', topic: 't', data: 'second', key: 'k' })
    expect(second.id).not.toBe(first.id)
    expect((await log.append({ type: 'm', topic: 't', data: 'y', key: 'k' })).id).toBe(second.id)
    // Keys of trimmed entries are forgotten in Redis too, so memory stays bounded.
    const client = await redisClient()
    const keys = (await client.sendCommand(['HLEN', `${stream}:keys`])) as number
    client.destroy()
    expect(keys).toBe(1)
  })

  test('listeners can already read the entry, and head includes it', async () => {
    const stream = freshStream()
    const log = await open(stream)
    const checks: Promise<{ id: string; readable: boolean; head: boolean }>[] = []
    let previous = log.head()
    log.subscribe((entry) => {
      const after = previous
      previous = entry.id
      const head = log.head() === entry.id
      checks.push(
        log.read(after, 1).then((page) => ({ id: entry.id, readable: page.ok && page.entries[0] === entry, head })),
      )
    })
    const written = await fill(log, 3)
    await expect.poll(() => checks.length).toBe(3)
    expect(await Promise.all(checks)).toEqual(written.map((e) => ({ id: e.id, readable: true, head: true })))
  })

  test('a node resumes an id another node told first, once its own tail gets there', async () => {
    const stream = freshStream()
    const [a, b] = [await open(stream), await open(stream)]
    const seenB = watch(b)
    const [x] = await fill(a, 1)
    // Possibly before b's tail has it: catchUp waits for b's tail; the id is not unknown.
    await b.catchUp?.(x?.id as string)
    expect(seenB.told.map((e) => e.id)).toEqual([x?.id])
    const page = ok(await b.read(x?.id as string, 10))
    expect(page.entries).toEqual([])
    expect(b.head()).toBe(x?.id)
  })

  test('when the stream is lost, every node signals a gap and continues in a new epoch', async () => {
    const stream = freshStream()
    const [a, b] = [await open(stream), await open(stream)]
    const [seenA, seenB] = [watch(a), watch(b)]
    const [old] = await fill(a, 3)
    await seenB.until(() => seenB.told.length === 3)
    const oldEpoch = epochOf(a)
    await dropKeys(stream)
    await fill(a, 1)
    await seenA.until(() => seenA.gaps.length === 1)
    await seenB.until(() => seenB.gaps.length === 1)
    for (const [log, seen] of [
      [a, seenA],
      [b, seenB],
    ] as const) {
      expect(epochOf(log)).not.toBe(oldEpoch)
      expect(seen.gaps[0]).toEqual({ id: log.head(), reason: 'unknown' })
      expect(await log.read(old?.id as string, 10)).toEqual({ ok: false, reason: 'unknown' })
      expect(log.status?.()).toMatchObject({ state: 'ok', gaps: 1 })
    }
    // Delivery goes on in the new epoch.
    const [fresh] = await fill(b, 1)
    await seenA.until(() => seenA.told.some((e) => e.id === fresh?.id))
    expect(fresh?.id.startsWith(`${epochOf(a)}.`)).toBe(true)
  })

  test('a node that had told nothing when the stream was replaced notices from the entries themselves', async () => {
    // Its tail is at 0-0, so the new stream's ids all look new to it: only each entry's
    // epoch tells it that they belong to another stream.
    const stream = freshStream()
    const a = await open(stream)
    const seenA = watch(a)
    await dropKeys(stream)
    const b = await open(stream)
    const [x] = await fill(b, 1, { data: 'x' })
    await seenA.until(() => seenA.told.length + seenA.gaps.length > 0)
    const [y] = await fill(b, 1, { data: 'y' })
    await seenA.until(() => seenA.told.some((e) => e.data === 'y'))
    expect(seenA.gaps).toHaveLength(1)
    expect(epochOf(a)).toBe(epochOf(b))
    // Whatever it told carries the new stream's ids: x (unless the gap covered it), then y.
    const ids = seenA.told.map((e) => e.id)
    expect([[y?.id], [x?.id, y?.id]]).toContainEqual(ids)
  })

  test('options are checked; a client passed in stays open after close', async () => {
    for (const options of [{ maxLen: 0 }, { maxAgeMs: -1 }, { cache: 1.5 }] as RedisLogOptions[]) {
      let caught: unknown
      try {
        await redisLog({ url: REDIS_URL, stream: 'x' }, options)
      } catch (error) {
        caught = error
      }
      expect(isRtError(caught) && caught.code).toBe('invalid_option')
    }
    const client = await redisClient()
    const log = await redisLog({ client, stream: freshStream() })
    const [entry] = await fill(log, 1)
    expect(entry?.id).toContain('.')
    await log.close?.()
    expect(client.isReady).toBe(true)
    await expect(log.append({ type: 'm', topic: 't', data: 1 })).rejects.toMatchObject({ code: 'hub_closed' })
    client.destroy()
  })

  test('a filtered read returns exactly what an unfiltered read lets through, from the cache and from Redis (30 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(1, 5, 10_000), filterAppends, filterReads, async (cache, appends, reads) => {
        const log = await open(freshStream(), { cache })
        const seen = watch(log)
        const positions = await appendPositions(log, appends)
        await seen.until(() => seen.told.length === appends.length)
        await filteredReadsAgree(log, positions, reads)
      }),
      { numRuns: 30 },
    )
  })

  test('entries earlier code appended (no topic copies) are still read by filtered reads (20 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(filterAppends, filterAppends, filterReads, async (earlier, later, reads) => {
        const stream = freshStream()
        const log = await open(stream, { cache: 1 })
        const seen = watch(log)
        const positions = await appendPositions(log, earlier)
        // What code without topic streams leaves: the entries, no copies, no topicsFrom.
        const redis = await redisClient()
        try {
          const copies = [...new Set(earlier.map((a) => `${stream}:s:${a.topic}`))]
          await redis.sendCommand(['DEL', ...copies])
          await redis.sendCommand(['HDEL', `${stream}:meta`, 'topicsFrom'])
        } finally {
          redis.destroy()
        }
        positions.push(...(await appendPositions(log, later)).slice(1))
        await seen.until(() => seen.told.length === earlier.length + later.length)
        await filteredReadsAgree(log, positions, reads)
      }),
      { numRuns: 20 },
    )
  })

  test('topic copies left from a lost epoch (stream and meta deleted, copies kept) are never read', async () => {
    const stream = freshStream()
    const log = await open(stream, { cache: 1 })
    const seen = watch(log)
    // A topic nobody appends to after the loss keeps its copies until they are dropped.
    await fill(log, 3, { topic: 'gone' })
    await seen.until(() => seen.told.length === 3)
    const redis = await redisClient()
    try {
      await redis.sendCommand(['DEL', stream, `${stream}:meta`])
    } finally {
      redis.destroy()
    }
    const fresh = await fill(log, 2)
    await seen.until(() => seen.gaps.length === 1 && seen.told.some((e) => e.id === fresh[1]?.id))
    const page = ok(await log.read(`${epochOf(log)}.0-0`, 10, { topics: new Set(['t', 'gone']) }))
    expect(page.entries.map((e) => e.id)).toEqual(fresh.map((e) => e.id))
  })

  test('topic streams are trimmed with the stream; a topic with nothing left is dropped', async () => {
    const stream = freshStream()
    const log = await open(stream, { maxLen: 10 })
    const redis = await redisClient()
    try {
      await log.append({ type: 'm', topic: 'once', data: 0 })
      await fill(log, 400)
      expect(await redis.sendCommand(['EXISTS', `${stream}:s:once`])).toBe(0)
      expect(await redis.sendCommand(['ZSCORE', `${stream}:topics`, 'once'])).toBe(null)
      const indexed = Number(await redis.sendCommand(['XLEN', `${stream}:s:t`]))
      const retained = Number(await redis.sendCommand(['XLEN', stream]))
      expect(indexed).toBe(retained)
    } finally {
      redis.destroy()
    }
  })
})

describe('a read that starts while this node is behind the stream', () => {
  /**
   * A real client whose next filtered-read script call (12 arguments: EVALSHA, sha, 3,
   * stream, meta, one topic, 6 values) waits until `release`, so the tail can move on while
   * the read is in flight.
   */
  function gated(client: Awaited<ReturnType<typeof redisClient>>) {
    let gate: Promise<void> | undefined
    let open = () => {}
    let onHeld = () => {}
    const wrapped = interceptCommands(client as unknown as RedisLike, (args) => {
      if (gate === undefined || args.length !== 12 || (args[0] !== 'EVALSHA' && args[0] !== 'EVAL')) return undefined
      const wait = gate
      gate = undefined
      onHeld()
      return wait
    })
    return {
      wrapped,
      /** Holds the next read; resolves once one is held. */
      hold(): Promise<void> {
        gate = new Promise((resolve) => {
          open = resolve
        })
        return new Promise((resolve) => {
          onHeld = resolve
        })
      },
      release: () => open(),
    }
  }

  test('never answers a cursor behind the position: it fails with unavailable and the client retries', async () => {
    const stream = freshStream()
    const own = await redisClient()
    const admin = await redisClient()
    cleanups.push(async () => {
      own.destroy()
      admin.destroy()
    })
    const reads = gated(own)
    const log = await redisLog({ client: reads.wrapped, stream }, { cache: 1, catchUpMs: 1 })
    cleanups.push(async () => log.close?.())
    const writer = await open(stream)
    await fill(log, 3)
    let reached = 0
    for (let attempt = 0; attempt < 10 && reached === 0; attempt++) {
      // Cut this node's tail: it waits before reading again, and the writer appends meanwhile.
      const list = String(await admin.sendCommand(['CLIENT', 'LIST']))
      const tail = list
        .split('\n')
        .find((line) => line.includes('cmd=xread'))
        ?.match(/id=(\d+)/)?.[1]
      if (tail === undefined) continue
      await admin.sendCommand(['CLIENT', 'KILL', 'ID', tail])
      const newest = await writer.append({ type: 'm', topic: 't', data: 'newest' })
      const held = reads.hold()
      const reading = log.read(newest.id, 10, { topics: new Set(['t']) })
      await Promise.race([held, reading])
      const behind = log.head() !== newest.id
      // The tail catches up while the read is in flight.
      await expect.poll(() => log.head(), { timeout: 10_000 }).toBe(newest.id)
      reads.release()
      const page = await reading.then(
        (read) => read,
        (error: unknown) => error,
      )
      if (!behind) continue
      reached++
      // A page whose cursor lies before the position would hand the client old entries again.
      expect(isRtError(page) && page.code).toBe('unavailable')
    }
    // Not vacuous: the read started behind the stream at least once.
    expect(reached).toBeGreaterThan(0)
  })
})
