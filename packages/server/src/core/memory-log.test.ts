import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { appendPositions, filterAppends, filteredReadsAgree, filterReads } from '../../test/log-support.js'
import { isRtError } from './errors.js'
import type { Log, LogEntry, LogRead } from './log.js'
import { memoryLog } from './memory-log.js'

/** The epoch part of a log's ids (everything before the last dash). */
function epochOf(log: Log): string {
  const head = log.head()
  return head.slice(0, head.lastIndexOf('-'))
}

async function fill(log: Log, count: number, topic = 't'): Promise<LogEntry[]> {
  const out: LogEntry[] = []
  for (let i = 0; i < count; i++) out.push(await log.append({ type: 'm', topic, data: i }))
  return out
}

function ok(page: LogRead): { entries: readonly LogEntry[]; more: boolean } {
  if (!page.ok) throw new Error(`expected a page, got a reset (${page.reason})`)
  return page
}

describe('memoryLog', () => {
  test('ids are <epoch>-<seq> from 1; head is <epoch>-0 when empty, then the newest id', async () => {
    const log = memoryLog({ now: () => 1234 })
    const epoch = epochOf(log)
    expect(epoch).toMatch(/^[0-9a-z]+$/)
    expect(log.head()).toBe(`${epoch}-0`)
    const [a, b] = await fill(log, 2)
    expect(a).toMatchObject({ id: `${epoch}-1`, type: 'm', topic: 't', data: 0, ts: 1234 })
    expect(b?.id).toBe(`${epoch}-2`)
    expect(log.head()).toBe(`${epoch}-2`)
  })

  test('two logs have different epochs, so their ids never collide', () => {
    expect(epochOf(memoryLog())).not.toBe(epochOf(memoryLog()))
  })

  test('rejects a capacity that is not a positive integer', () => {
    for (const capacity of [0, -1, 1.5, Number.NaN]) {
      let caught: unknown
      try {
        memoryLog({ capacity })
      } catch (error) {
        caught = error
      }
      expect(isRtError(caught) && caught.code).toBe('invalid_option')
    }
  })

  test('the ring keeps the newest `capacity` entries: resume works from the oldest kept id minus one', async () => {
    const log = memoryLog({ capacity: 3 })
    const epoch = epochOf(log)
    const entries = await fill(log, 5)
    // Kept: 3, 4, 5. Resuming after 2 needs 3..5: still possible.
    expect(ok(await log.read(`${epoch}-2`, 10)).entries.map((e) => e.data)).toEqual([2, 3, 4])
    // Resuming after 1 needs 2, which is gone.
    expect(await log.read(`${epoch}-1`, 10)).toEqual({ ok: false, reason: 'evicted' })
    expect(await log.read(`${epoch}-0`, 10)).toEqual({ ok: false, reason: 'evicted' })
    expect(ok(await log.read(entries[4]?.id as string, 10))).toEqual({ ok: true, entries: [], more: false })
  })

  test('capacity 1 keeps only the newest entry', async () => {
    const log = memoryLog({ capacity: 1 })
    const epoch = epochOf(log)
    expect(ok(await log.read(`${epoch}-0`, 10)).entries).toEqual([])
    await fill(log, 1)
    expect(ok(await log.read(`${epoch}-0`, 10)).entries.map((e) => e.id)).toEqual([`${epoch}-1`])
    await fill(log, 1)
    expect(await log.read(`${epoch}-0`, 10)).toEqual({ ok: false, reason: 'evicted' })
    expect(ok(await log.read(`${epoch}-1`, 10)).entries.map((e) => e.id)).toEqual([`${epoch}-2`])
  })

  test('read pages with `more` until the head', async () => {
    const log = memoryLog({ capacity: 100 })
    const epoch = epochOf(log)
    await fill(log, 5)
    const first = ok(await log.read(`${epoch}-0`, 2))
    expect(first.entries.map((e) => e.data)).toEqual([0, 1])
    expect(first.more).toBe(true)
    const second = ok(await log.read(first.entries[1]?.id as string, 2))
    expect(second.entries.map((e) => e.data)).toEqual([2, 3])
    expect(second.more).toBe(true)
    const third = ok(await log.read(second.entries[1]?.id as string, 2))
    expect(third.entries.map((e) => e.data)).toEqual([4])
    expect(third.more).toBe(false)
    // Exactly `limit` left: no further page.
    expect(ok(await log.read(`${epoch}-3`, 2)).more).toBe(false)
  })

  test('pages stay correct after the ring has wrapped several times', async () => {
    const log = memoryLog({ capacity: 4 })
    const epoch = epochOf(log)
    await fill(log, 11)
    const page = ok(await log.read(`${epoch}-7`, 3))
    expect(page.entries.map((e) => [e.id, e.data])).toEqual([
      [`${epoch}-8`, 7],
      [`${epoch}-9`, 8],
      [`${epoch}-10`, 9],
    ])
    expect(page.more).toBe(true)
  })

  test('malformed ids', async () => {
    const log = memoryLog()
    const epoch = epochOf(log)
    await fill(log, 3)
    const malformed = [
      '',
      'garbage',
      '42',
      '-1',
      `${epoch}-`,
      `${epoch}-x`,
      `${epoch}-1.5`,
      `${epoch}-+1`,
      `${epoch}- 1`,
      `${epoch}-1e1`,
      `${epoch}-0x1`,
      `${epoch}-1234567890123456`,
    ]
    for (const id of malformed) expect([id, await log.read(id, 10)]).toEqual([id, { ok: false, reason: 'malformed' }])
  })

  test('unknown ids: another log, another epoch, or beyond the head (a restarted log)', async () => {
    const log = memoryLog()
    const other = memoryLog()
    const epoch = epochOf(log)
    await fill(log, 3)
    const [foreign] = await fill(other, 1)
    const unknown = [foreign?.id as string, `zz${epoch}-1`, `a-${epoch}-1`, `${epoch}-4`, `${epoch}-999999999999999`]
    for (const id of unknown) expect([id, await log.read(id, 10)]).toEqual([id, { ok: false, reason: 'unknown' }])
    // The head itself is known: nothing after it yet.
    expect(ok(await log.read(`${epoch}-3`, 10)).entries).toEqual([])
  })

  test('a duplicate key returns the first entry and is neither stored nor announced again', async () => {
    const log = memoryLog()
    const told: string[] = []
    log.subscribe((entry) => told.push(entry.id))
    const first = await log.append({ type: 'm', topic: 't', data: 1, key: 'k' })
    const again = await log.append({ type: 'other', topic: 'u', data: 2, key: 'k' })
    expect(again).toBe(first)
    expect(log.head()).toBe(first.id)
    expect(told).toEqual([first.id])
    const unkeyed = await log.append({ type: 'm', topic: 't', data: 3 })
    expect(unkeyed.id).not.toBe(first.id)
  })

  test('a key whose entry was evicted can be used again, and then dedupes against the new entry', async () => {
    const log = memoryLog({ capacity: 2 })
    const first = await log.append({ type: 'm', topic: 't', data: 'first', key: 'k' })
    // Still kept: deduped.
    await fill(log, 1)
    expect(await log.append({ type: 'm', topic: 't', data: 'x', key: 'k' })).toBe(first)
    // Evicted: the key is free again.
    await fill(log, 1)
    const second = await log.append({ type: 'm', topic: 't', data: 'second', key: 'k' })
    expect(second.id).not.toBe(first.id)
    expect(second.data).toBe('second')
    expect(await log.append({ type: 'm', topic: 't', data: 'y', key: 'k' })).toBe(second)
    // Evicting the new entry frees the key once more.
    await fill(log, 2)
    const third = await log.append({ type: 'm', topic: 't', data: 'third', key: 'k' })
    expect(third.id).not.toBe(second.id)
  })

  test('listeners are told in order, can already read the entry, and stop after unsubscribing', async () => {
    const log = memoryLog()
    const epoch = epochOf(log)
    const seen: { id: string; readable: boolean; head: string }[] = []
    const pending: Promise<void>[] = []
    const off = log.subscribe((entry) => {
      const prev = `${epoch}-${Number(entry.id.slice(epoch.length + 1)) - 1}`
      const head = log.head()
      pending.push(
        log.read(prev, 1).then((page) => {
          seen.push({ id: entry.id, readable: page.ok && page.entries[0] === entry, head })
        }),
      )
    })
    const [a, b] = await fill(log, 2)
    await Promise.all(pending)
    // Readable and included in head by the time the listener runs.
    expect(seen).toEqual([
      { id: a?.id, readable: true, head: a?.id },
      { id: b?.id, readable: true, head: b?.id },
    ])
    off()
    await fill(log, 1)
    expect(seen).toHaveLength(2)
  })

  // A model check: any mix of keyed and unkeyed appends with any capacity, then a read from
  // every id the log ever issued (and the origin), agrees with a plain array.
  test('agrees with an array model for random appends, keys and reads (200 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 5 }),
        async (capacity, keys, limit) => {
          const log = memoryLog({ capacity })
          const epoch = epochOf(log)
          const model: { key: string | undefined; data: number }[] = []
          for (const [i, key] of keys.entries()) {
            const kept = model.slice(-capacity)
            const dupe = key === undefined ? undefined : kept.find((e) => e.key === key)
            const entry = await log.append({ type: 'm', topic: 't', data: i, key })
            if (dupe === undefined) model.push({ key, data: i })
            expect(entry.data).toBe(dupe?.data ?? i)
          }
          expect(log.head()).toBe(`${epoch}-${model.length}`)
          for (let after = 0; after <= model.length; after++) {
            const page = await log.read(`${epoch}-${after}`, limit)
            if (model.length - after > capacity) {
              expect(page).toEqual({ ok: false, reason: 'evicted' })
              continue
            }
            const want = model.slice(after, after + limit).map((e) => e.data)
            expect(ok(page).entries.map((e) => e.data)).toEqual(want)
            expect(ok(page).more).toBe(after + limit < model.length)
          }
        },
      ),
      { numRuns: 200 },
    )
  })

  test('a filtered read returns exactly what an unfiltered read lets through, from every position (300 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 50 }),
        filterAppends,
        filterReads,
        async (capacity, appends, reads) => {
          const log = memoryLog({ capacity })
          const positions = await appendPositions(log, appends)
          await filteredReadsAgree(log, positions, reads)
        },
      ),
      { numRuns: 300 },
    )
  })

  test('a filtered read visits only the topics asked for and says where it got to', async () => {
    const log = memoryLog({ capacity: 100_000 })
    const origin = log.head()
    const mine: string[] = []
    for (let i = 0; i < 50_000; i++) {
      const entry = await log.append({ type: 'm', topic: `user:${i % 5_000}`, data: i })
      if (entry.topic === 'user:7') mine.push(entry.id)
    }
    const page = ok(await log.read(origin, 500, { topics: new Set(['user:7']), userId: '7' }))
    expect(page.entries.map((e) => e.id)).toEqual(mine)
    expect(page.more).toBe(false)
    expect((page as { cursor?: string }).cursor).toBe(log.head())
    // A page cut by the limit continues after its last entry.
    const first = ok(await log.read(origin, 3, { topics: new Set(['user:7']) }))
    expect(first.entries.map((e) => e.id)).toEqual(mine.slice(0, 3))
    expect(first.more).toBe(true)
    expect((first as { cursor?: string }).cursor).toBe(mine[2])
  })
})
