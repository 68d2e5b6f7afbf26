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
import { dropKeys, REDIS_URL, redisClient, testPrefix } from '../../test/redis-support.js'
import { isRtError } from '../core/errors.js'
import type { Log } from '../core/log.js'
import { type RedisBusOptions, redisBus } from './bus.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function freshChannel(): string {
  const channel = testPrefix('bus')
  cleanups.push(() => dropKeys(channel))
  return channel
}

async function open(channel: string, options: RedisBusOptions = {}): Promise<Log> {
  const log = await redisBus({ url: REDIS_URL }, { channel, ...options })
  cleanups.push(async () => log.close?.())
  return log
}

const epochOf = (log: Log) => log.head().slice(0, log.head().lastIndexOf('-'))
const seqOf = (id: string) => Number(id.slice(id.lastIndexOf('-') + 1))

describe('redisBus', () => {
  test('ids are assigned once: every node tells the same ids in the same order', async () => {
    const channel = freshChannel()
    const [a, b, c] = [await open(channel), await open(channel), await open(channel)]
    expect(epochOf(a)).toMatch(/^[0-9a-z]+$/)
    expect(new Set([epochOf(a), epochOf(b), epochOf(c)]).size).toBe(1)
    const seen = [watch(a), watch(b), watch(c)]
    const start = seqOf(a.head())
    const written = (await Promise.all([fill(a, 30, { to: ['u1'] }), fill(b, 30), fill(c, 30, { data: 'ç\n' })])).flat()
    for (const s of seen) await s.until(() => s.told.length === 90)
    const ids = seen[0]?.told.map((e) => e.id)
    for (const s of seen) expect(s.told).toEqual(seen[0]?.told)
    expect(ids?.map(seqOf)).toEqual(Array.from({ length: 90 }, (_, i) => start + i + 1))
    expect(new Set(ids)).toEqual(new Set(written.map((e) => e.id)))
    expect(a.head()).toBe(ids?.at(-1))
    expect(c.head()).toBe(ids?.at(-1))
    expect(seen[1]?.told.find((e) => e.to !== undefined)).toMatchObject({ to: ['u1'] })
    expect(a.status?.()).toEqual({ state: 'ok', detail: undefined, pending: 0, gaps: 0 })
  })

  test('read pages with `more`; the memory ring evicts; unknown and malformed ids', async () => {
    const channel = freshChannel()
    const log = await open(channel, { capacity: 5, catchUpMs: 100 })
    const other = await open(freshChannel())
    const seen = watch(log)
    const written = await fill(log, 8)
    await seen.until(() => seen.told.length === 8)
    const epoch = epochOf(log)
    const base = seqOf(written[0]?.id as string) - 1
    // Kept: the newest 5 (seqs base+4 .. base+8).
    const page = ok(await log.read(`${epoch}-${base + 3}`, 3))
    expect(page.entries.map((e) => e.data)).toEqual([3, 4, 5])
    expect(page.more).toBe(true)
    expect(page.entries[0]).toBe(seen.told[3])
    const rest = ok(await log.read(page.entries[2]?.id as string, 3))
    expect(rest.entries.map((e) => e.data)).toEqual([6, 7])
    expect(rest.more).toBe(false)
    expect(await log.read(`${epoch}-${base + 2}`, 3)).toEqual({ ok: false, reason: 'evicted' })
    expect(ok(await log.read(log.head(), 3)).entries).toEqual([])
    const [foreign] = await fill(other, 1)
    for (const id of [foreign?.id as string, `${epoch}-${base + 9}`, `x${epoch}-${base + 5}`]) {
      expect([id, await log.read(id, 3)]).toEqual([id, { ok: false, reason: 'unknown' }])
    }
    for (const id of ['', 'x', '7', `${epoch}-`, `${epoch}-1.5`, `${epoch}-+1`, `${epoch}-1234567890123456`]) {
      expect([id, await log.read(id, 3)]).toEqual([id, { ok: false, reason: 'malformed' }])
    }
  })

  test('a duplicate key returns the first entry and is told once, on every node', async () => {
    const channel = freshChannel()
    const [a, b] = [await open(channel), await open(channel)]
    const seen = watch(b)
    const first = await a.append({ type: 'm', topic: 't', data: 'first', key: 'k' })
    const [again, fromB] = await Promise.all([
      a.append({ type: 'm', topic: 't', data: 'again', key: 'k' }),
      b.append({ type: 'm', topic: 't', data: 'b', key: 'k' }),
    ])
    expect(again.id).toBe(first.id)
    expect(fromB.id).toBe(first.id)
    expect(fromB).toMatchObject({ data: 'first', key: 'k' })
    const [plain] = await fill(a, 1)
    await seen.until(() => seen.told.length === 2)
    expect(seen.told.map((e) => e.id)).toEqual([first.id, plain?.id])
  })

  test('events a node never received are a gap: it resets its position and says so, in order', async () => {
    const channel = freshChannel()
    const [a, b] = [await open(channel), await open(channel)]
    const seen = watch(b)
    const [x] = await fill(a, 1)
    await seen.until(() => seen.told.length === 1)
    // Take three ids without publishing them: to every node, events 2..4 were lost.
    const client = await redisClient()
    await client.sendCommand(['HINCRBY', `${channel}:meta`, 'seq', '3'])
    client.destroy()
    const [y] = await fill(a, 1)
    await seen.until(() => seen.told.length === 2)
    const epoch = epochOf(b)
    const lostFrom = seqOf(x?.id as string)
    expect(seen.gaps).toEqual([{ id: `${epoch}-${lostFrom + 3}`, reason: 'evicted' }])
    expect(seen.told[1]?.id).toBe(y?.id)
    // A client that saw x cannot resume: what followed it is gone. One after the gap can.
    expect(await b.read(x?.id as string, 10)).toEqual({ ok: false, reason: 'evicted' })
    expect(ok(await b.read(`${epoch}-${lostFrom + 3}`, 10)).entries.map((e) => e.id)).toEqual([y?.id])
    expect(b.status?.()).toMatchObject({ gaps: 1 })
  })

  test('a lost counter is a new epoch: nodes reset and go on', async () => {
    const channel = freshChannel()
    const [a, b] = [await open(channel), await open(channel)]
    const seen = watch(b)
    const [x] = await fill(a, 2)
    await seen.until(() => seen.told.length === 2)
    const before = epochOf(b)
    await dropKeys(channel)
    const [y] = await fill(a, 1)
    await seen.until(() => seen.told.length === 3)
    expect(epochOf(b)).not.toBe(before)
    expect(seen.gaps).toEqual([{ id: `${epochOf(b)}-0`, reason: 'unknown' }])
    expect(y?.id).toBe(`${epochOf(b)}-1`)
    expect(await b.read(x?.id as string, 10)).toEqual({ ok: false, reason: 'unknown' })
    expect(ok(await b.read(`${epochOf(b)}-0`, 10)).entries.map((e) => e.id)).toEqual([y?.id])
  })

  test('options are checked; a closed bus refuses appends', async () => {
    for (const options of [{ capacity: 0 }, { maxPending: -1 }, { publishTimeoutMs: 1.5 }] as RedisBusOptions[]) {
      let caught: unknown
      try {
        await redisBus({ url: REDIS_URL }, options)
      } catch (error) {
        caught = error
      }
      expect(isRtError(caught) && caught.code).toBe('invalid_option')
    }
    const client = await redisClient()
    const log = await redisBus({ client }, { channel: freshChannel() })
    await log.close?.()
    await expect(log.append({ type: 'm', topic: 't', data: 1 })).rejects.toMatchObject({ code: 'hub_closed' })
    expect(client.isReady).toBe(true)
    client.destroy()
  })

  test('a filtered read returns exactly what an unfiltered read lets through (20 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(3, 10_000), filterAppends, filterReads, async (capacity, appends, reads) => {
        const log = await open(freshChannel(), { capacity })
        const seen = watch(log)
        const positions = await appendPositions(log, appends)
        await seen.until(() => seen.told.length === appends.length)
        await filteredReadsAgree(log, positions, reads)
      }),
      { numRuns: 20 },
    )
  })
})
