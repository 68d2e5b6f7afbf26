import { afterEach, describe, expect, test } from 'vitest'
import { watch } from '../../test/log-support.js'
import { dropKeys, redisClient, testPrefix } from '../../test/redis-support.js'
import { isRtError } from '../core/errors.js'
import type { Log, LogAppend, LogEntry } from '../core/log.js'
import type { RedisLike } from './client.js'
import { type RedisLogOptions, redisLog } from './stream-log.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

type Client = Awaited<ReturnType<typeof redisClient>>

/** A real client whose append script calls that ran are counted (the append script declares 6+ keys). */
function counting(client: Client) {
  const appends: string[][] = []
  /** Set to make the log see Redis as not ready (the connection itself stays up). */
  const state = { down: false }
  const wrapped = new Proxy(client, {
    get(target, prop) {
      if (prop === 'isReady' && state.down) return false
      if (prop === 'sendCommand') {
        return (args: readonly string[], options?: { abortSignal?: AbortSignal }) => {
          const sent = target.sendCommand(args as string[], options)
          if ((args[0] === 'EVALSHA' || args[0] === 'EVAL') && Number(args[2]) >= 6) {
            const call = [...args]
            appends.push(call)
            // Not run (the script was not loaded yet): the EVAL that follows is the call.
            sent.catch((error: unknown) => {
              if (error instanceof Error && error.message.startsWith('NOSCRIPT'))
                appends.splice(appends.indexOf(call), 1)
            })
          }
          return sent
        }
      }
      const value = Reflect.get(target, prop, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  }) as unknown as RedisLike
  return { wrapped, appends, state }
}

/** A log on a fresh stream over a counted client, and a plain client to look at Redis. */
async function setup(options: RedisLogOptions = {}) {
  const stream = testPrefix('group')
  const own = await redisClient()
  const plain = await redisClient()
  const { wrapped, appends, state } = counting(own)
  const log = await redisLog({ client: wrapped, stream }, options)
  cleanups.push(async () => {
    await log.close?.()
    own.destroy()
    plain.destroy()
    await dropKeys(stream)
  })
  return { stream, log, appends, plain, own, state }
}

const seqOf = (entry: LogEntry) => Number(entry.id.slice(entry.id.lastIndexOf('-') + 1))

/** Appends every input in the same tick; each caller's outcome, in order. */
function together(log: Log, inputs: LogAppend[]) {
  return Promise.allSettled(inputs.map((input) => log.append(input)))
}

const event = (data: unknown, extra: Partial<LogAppend> = {}): LogAppend => ({ type: 'm', topic: 't', data, ...extra })

function values(results: PromiseSettledResult<LogEntry>[]): LogEntry[] {
  return results.map((r) => {
    if (r.status === 'rejected') throw r.reason
    return r.value
  })
}

describe('redisLog group commit', () => {
  test('appends made in one tick are one script call and come back in order, each with its own id', async () => {
    const { log, appends, plain, stream } = await setup()
    const seen = watch(log)
    const entries = values(
      await together(
        log,
        Array.from({ length: 40 }, (_, i) => event(i, { topic: `t${i % 3}` })),
      ),
    )
    expect(appends).toHaveLength(1)
    expect(entries.map(seqOf)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
    expect(entries.map((e) => [e.data, e.topic])).toEqual(Array.from({ length: 40 }, (_, i) => [i, `t${i % 3}`]))
    // The stream and each topic's copy hold them under the same ids, in order.
    const stored = (await plain.sendCommand(['XRANGE', stream, '-', '+'])) as [string, string[]][]
    expect(stored.map(([id]) => id)).toEqual(entries.map((e) => e.id.slice(e.id.lastIndexOf('.') + 1)))
    const copies = (await plain.sendCommand(['XRANGE', `${stream}:s:t1`, '-', '+'])) as [string, string[]][]
    expect(copies.map(([id]) => id)).toEqual(
      entries.filter((e) => e.topic === 't1').map((e) => e.id.slice(e.id.lastIndexOf('.') + 1)),
    )
    // What listeners are told matches what the callers got.
    await seen.until(() => seen.told.length === 40)
    expect(seen.told.map((e) => [e.id, e.data])).toEqual(entries.map((e) => [e.id, e.data]))
  })

  test('groups leave Redis as the same appends one at a time do: ids, duplicates, trimming, copies, keys', async () => {
    // Keys repeat, some after their first entry was trimmed; topics come and go.
    const inputs = Array.from({ length: 400 }, (_, i) =>
      event(i, { topic: `t${(i * 7) % 5}`, ...(i % 3 === 0 ? { key: `k${(i * 11) % 90}` } : {}) }),
    )
    const grouped = await setup({ maxLen: 60 })
    const single = await setup({ maxLen: 60 })
    const together_ = values(await together(grouped.log, inputs))
    const oneByOne: LogEntry[] = []
    for (const input of inputs) oneByOne.push(await single.log.append(input))
    expect(grouped.appends.length).toBeLessThan(10)
    expect(single.appends).toHaveLength(400)
    const outcome = (entries: LogEntry[]) => entries.map((e) => [e.data, seqOf(e)])
    expect(outcome(together_)).toEqual(outcome(oneByOne))
    /** What the log keeps in Redis, with ids reduced to their seq (the clocks differ), and the epoch each entry carries named alike (each stream has its own). */
    async function state({ plain, stream }: Awaited<ReturnType<typeof setup>>) {
      const seqs = async (key: string) =>
        ((await plain.sendCommand(['XRANGE', key, '-', '+'])) as [string, string[]][]).map(([id, fields]) => [
          id.slice(id.indexOf('-') + 1),
          fields.map((value, i) => (i > 0 && fields[i - 1] === 'e' && i % 2 === 1 ? '<epoch>' : value)),
        ])
      const keys = (await plain.sendCommand(['HGETALL', `${stream}:keys`])) as unknown
      const pairs = Array.isArray(keys) ? keys : Object.entries(keys as object).flat()
      const byKey = new Map<string, string>()
      for (let i = 0; i + 1 < pairs.length; i += 2)
        byKey.set(String(pairs[i]), String(pairs[i + 1]).split('-')[1] as string)
      const topics = (await plain.sendCommand(['ZRANGE', `${stream}:topics`, '0', '-1', 'WITHSCORES'])) as unknown[]
      return {
        stream: await seqs(stream),
        copies: await Promise.all([0, 1, 2, 3, 4].map((t) => seqs(`${stream}:s:t${t}`))),
        keys: [...byKey].sort(),
        keyseq: await plain.sendCommand(['ZRANGE', `${stream}:keyseq`, '0', '-1', 'WITHSCORES']),
        topics: topics.flat(),
        seq: await plain.sendCommand(['HGET', `${stream}:meta`, 'seq']),
      }
    }
    const [a, b] = [await state(grouped), await state(single)]
    expect(a.stream.length).toBeLessThan(400)
    expect(a).toEqual(b)
  })

  test('a duplicate key inside one group, and across groups, returns the first entry', async () => {
    const { log, appends, plain, stream } = await setup()
    const first = values(
      await together(log, [
        event('a', { key: 'k1' }),
        event('b', { key: 'k2' }),
        event('c', { key: 'k1' }),
        event('d'),
        event('e', { key: 'k1' }),
      ]),
    )
    expect(appends).toHaveLength(1)
    expect(first.map((e) => e.data)).toEqual(['a', 'b', 'a', 'd', 'a'])
    expect(first.map(seqOf)).toEqual([1, 2, 1, 3, 1])
    expect(first[2]?.id).toBe(first[0]?.id)
    expect(first[4]?.id).toBe(first[0]?.id)
    const second = values(
      await together(log, [event('f', { key: 'k2' }), event('g', { key: 'k3' }), event('h', { key: 'k3' })]),
    )
    expect(appends).toHaveLength(2)
    expect(second.map((e) => [e.data, seqOf(e)])).toEqual([
      ['b', 2],
      ['g', 4],
      ['g', 4],
    ])
    expect(second[0]?.id).toBe(first[1]?.id)
    expect(await plain.sendCommand(['XLEN', stream])).toBe(4)
    expect(await plain.sendCommand(['HGET', `${stream}:meta`, 'seq'])).toBe('4')
  })

  test('a group past the entry cap or the byte cap is split, in order', async () => {
    const { log, appends } = await setup()
    const many = values(
      await together(
        log,
        Array.from({ length: 300 }, (_, i) => event(i)),
      ),
    )
    expect(appends).toHaveLength(3) // 128 + 128 + 44
    expect(many.map(seqOf)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1))
    expect(many.map((e) => e.data)).toEqual(Array.from({ length: 300 }, (_, i) => i))
    // 400 KB each: two fit under 1 MiB, the third starts a group of its own.
    const big = 'x'.repeat(400_000)
    const large = values(await together(log, [event(`1${big}`), event(`2${big}`), event(`3${big}`)]))
    expect(appends).toHaveLength(5)
    expect(appends[3]?.filter((arg) => arg.length > 400_000)).toHaveLength(2)
    expect(large.map(seqOf)).toEqual([301, 302, 303])
    expect(large.map((e) => (e.data as string)[0])).toEqual(['1', '2', '3'])
  })

  test('an entry the script refuses fails its own caller only; the rest of its group is appended', async () => {
    const { log, appends, plain, stream } = await setup()
    // The topic's copy stream holds another type: that entry cannot be copied.
    await plain.sendCommand(['SET', `${stream}:s:bad`, 'x'])
    const results = await together(log, [event('a'), event('b', { topic: 'bad' }), event('c')])
    expect(appends).toHaveLength(1)
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    const refused = results[1] as PromiseRejectedResult
    expect(isRtError(refused.reason) && refused.reason.code).toBe('unavailable')
    const kept = results.filter((r) => r.status === 'fulfilled').map((r) => r.value)
    expect(kept.map((e) => [e.data, seqOf(e)])).toEqual([
      ['a', 1],
      ['c', 2],
    ])
    expect(await plain.sendCommand(['XLEN', stream])).toBe(2)
  })

  test('a group the script cannot run fails every caller and writes nothing, so a retry is clean', async () => {
    const { log, appends, plain, stream } = await setup()
    values(await together(log, [event('a', { key: 'k0' })]))
    // The dedupe hash holds another type: no entry of the group can be deduplicated.
    await plain.sendCommand(['RENAME', `${stream}:keys`, `${stream}:keys-aside`])
    await plain.sendCommand(['SET', `${stream}:keys`, 'x'])
    const results = await together(log, [event('b'), event('c', { key: 'k1' }), event('d')])
    expect(appends).toHaveLength(2)
    for (const r of results) {
      expect(r.status).toBe('rejected')
      const reason = (r as PromiseRejectedResult).reason
      expect(isRtError(reason) && reason.code).toBe('unavailable')
    }
    // Nothing of the group was applied: no entry, no sequence number taken.
    expect(await plain.sendCommand(['XLEN', stream])).toBe(1)
    expect(await plain.sendCommand(['HGET', `${stream}:meta`, 'seq'])).toBe('1')
    await plain.sendCommand(['RENAME', `${stream}:keys-aside`, `${stream}:keys`])
    const retried = values(await together(log, [event('b'), event('c', { key: 'k1' }), event('d')]))
    expect(retried.map((e) => [e.data, seqOf(e)])).toEqual([
      ['b', 2],
      ['c', 3],
      ['d', 4],
    ])
  })

  test('a connection dropped with a group in flight fails each of its callers; Redis applied none of it', async () => {
    const { log, appends, plain, own, stream } = await setup()
    const id = String(await own.sendCommand(['CLIENT', 'ID']))
    // Writes wait in Redis, so the group is received but not run when its connection is cut.
    await plain.sendCommand(['CLIENT', 'PAUSE', '5000', 'WRITE'])
    let results: PromiseSettledResult<LogEntry>[]
    try {
      const pending = together(log, [event('a'), event('b', { key: 'k' }), event('c')])
      for (let polls = 0; ; polls++) {
        const info = String(await plain.sendCommand(['CLIENT', 'LIST', 'ID', id]))
        if (/ flags=\w*b/.test(info) && appends.length === 1) break
        if (polls > 10_000) throw new Error(`the group never reached Redis: ${info}`)
      }
      await plain.sendCommand(['CLIENT', 'KILL', 'ID', id])
      results = await pending
    } finally {
      await plain.sendCommand(['CLIENT', 'UNPAUSE'])
    }
    for (const r of results) {
      expect(r.status).toBe('rejected')
      const reason = (r as PromiseRejectedResult).reason
      expect(isRtError(reason) && reason.code).toBe('unavailable')
    }
    expect(await plain.sendCommand(['XLEN', stream])).toBe(0)
    // Once reconnected, the same appends go through, once.
    const retried = values(await together(log, [event('a'), event('b', { key: 'k' }), event('b', { key: 'k' })]))
    expect(retried.map((e) => [e.data, seqOf(e)])).toEqual([
      ['a', 1],
      ['b', 2],
      ['b', 2],
    ])
  })

  test('an append made while Redis is not ready goes alone, after the group queued before it', async () => {
    const { log, appends, state } = await setup()
    const queued = [log.append(event('a')), log.append(event('b'))]
    state.down = true
    const alone = log.append(event('c'))
    state.down = false
    const entries = await Promise.all([...queued, alone])
    expect(entries.map((e) => [e.data, seqOf(e)])).toEqual([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ])
    expect(appends).toHaveLength(2)
  })

  test('appends while a group is in flight go as the next group', async () => {
    const { log, appends } = await setup()
    const first = log.append(event(0))
    // Issued once the first group has been sent, before its reply.
    await new Promise((resolve) => setImmediate(resolve))
    expect(appends).toHaveLength(1)
    const later = [1, 2, 3].map((i) => log.append(event(i)))
    await new Promise((resolve) => setImmediate(resolve))
    const entries = await Promise.all([first, ...later])
    expect(entries.map(seqOf)).toEqual([1, 2, 3, 4])
    expect(appends).toHaveLength(2)
  })
})
