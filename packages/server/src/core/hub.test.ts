import { describe, expect, test } from 'vitest'
import { isRtError, RtError } from './errors.js'
import { createHub, type Hub } from './hub.js'
import type { Log } from './log.js'
import { memoryLog } from './memory-log.js'
import type { HubResponse, HubStreamResponse, StreamSink } from './sink.js'
import type { HubOptions, Source, SourceContext, Timers } from './types.js'

const decoder = new TextDecoder()

/** A sink as an adapter would implement it, recording what the hub does with it. */
class RecordingSink implements StreamSink {
  readonly writes: string[] = []
  bufferedBytes = 0
  ended = false
  aborted = false
  private waiters: (() => void)[] = []
  write(chunk: Uint8Array): void {
    if (this.ended || this.aborted) throw new Error('write after end or abort')
    this.writes.push(decoder.decode(chunk))
    for (const wake of this.waiters.splice(0)) wake()
  }
  onDrain(): void {}
  end(): void {
    this.ended = true
  }
  abort(): void {
    this.aborted = true
  }
  /** Resolves once the hub has made `count` writes in total. */
  async writesReach(count: number): Promise<void> {
    while (this.writes.length < count) await new Promise<void>((resolve) => this.waiters.push(resolve))
  }
  get text(): string {
    return this.writes.join('')
  }
}

/** Timers the test drives: records every interval and fires them on demand. */
class ManualTimers implements Timers {
  readonly active = new Map<number, () => void>()
  started = 0
  private next = 1
  setInterval(fn: () => void): unknown {
    this.started++
    const handle = this.next++
    this.active.set(handle, fn)
    return handle
  }
  clearInterval(handle: unknown): void {
    this.active.delete(handle as number)
  }
  fire(): void {
    for (const fn of [...this.active.values()]) fn()
  }
}

function request(query: string, method = 'GET') {
  return { method, url: new URL(`http://localhost/events${query}`), headers: new Headers(), raw: null }
}

function asStream(response: HubResponse): HubStreamResponse {
  if (response.kind !== 'stream') throw new Error(`expected a stream, got ${response.status} ${response.body}`)
  return response
}

/** Opens a stream on `hub` into a fresh sink and waits for its first bytes. */
async function connect(hub: Hub, query = '?topics=a') {
  const sink = new RecordingSink()
  const handle = asStream(await hub.handle(request(query))).open(sink)
  await sink.writesReach(1)
  return { sink, handle }
}

function hubWith(options: HubOptions = {}) {
  const timers = new ManualTimers()
  return { hub: createHub({ timers, ...options }), timers }
}

describe('heartbeat', () => {
  test('one interval for every connection, started on the first and cleared on the last', async () => {
    const { hub, timers } = hubWith({ heartbeatMs: 5_000 })
    expect(timers.active.size).toBe(0)
    const streams = await Promise.all(Array.from({ length: 20 }, () => connect(hub)))
    expect(timers.started).toBe(1)
    expect(timers.active.size).toBe(1)

    timers.fire()
    await Promise.all(streams.map(({ sink }) => sink.writesReach(2)))
    for (const { sink } of streams) expect(sink.writes[1]).toBe(':\n\n')

    for (const { handle } of streams.slice(1)) handle.close()
    expect(timers.active.size).toBe(1)
    streams[0]?.handle.close()
    expect(timers.active.size).toBe(0)

    // A later connection starts a fresh interval.
    const again = await connect(hub)
    expect(timers.started).toBe(2)
    expect(timers.active.size).toBe(1)
    again.handle.close()
    expect(timers.active.size).toBe(0)
    await hub.close()
  })

  test('a request that never opens a stream starts no interval', async () => {
    const { hub, timers } = hubWith()
    const response = asStream(await hub.handle(request('?topics=a')))
    expect(hub.stats().connections).toBe(1)
    response.cancel()
    expect(hub.stats().connections).toBe(0)
    expect(timers.started).toBe(0)
    await hub.close()
  })

  test('hub.close clears the interval', async () => {
    const { hub, timers } = hubWith()
    await connect(hub)
    expect(timers.active.size).toBe(1)
    await hub.close()
    expect(timers.active.size).toBe(0)
  })
})

describe('writing', () => {
  test('the first bytes are retry and rt.connected, in one write', async () => {
    const { hub } = hubWith({ retryMs: 2_500, heartbeatMs: 7_000 })
    const { sink } = await connect(hub)
    expect(sink.writes).toHaveLength(1)
    expect(sink.writes[0]).toMatch(/^retry: 2500\nid: [^\n]+\nevent: rt\.connected\ndata: \{"heartbeatMs":7000\}\n\n$/)
    await hub.close()
  })

  test('several publishes in one tick arrive in one write, in order', async () => {
    const { hub } = hubWith()
    const { sink } = await connect(hub)
    const ids = await Promise.all([1, 2, 3, 4].map((n) => hub.publish({ type: 'm', topic: 'a', data: n })))
    await sink.writesReach(2)
    // Let any further (wrongly split) flush run before counting.
    await new Promise<void>((resolve) => setImmediate(resolve))
    expect(sink.writes).toHaveLength(2)
    const chunk = sink.writes[1] as string
    expect([...chunk.matchAll(/^id: (.+)$/gm)].map((m) => m[1])).toEqual(ids)
    expect([...chunk.matchAll(/"data":(\d)\}/g)].map((m) => Number(m[1]))).toEqual([1, 2, 3, 4])
    await hub.close()
  })

  test('the same bytes reach every recipient; other topics and types are filtered', async () => {
    const { hub } = hubWith()
    const a = await connect(hub, '?topics=a')
    const b = await connect(hub, '?topics=a,b&types=m')
    const c = await connect(hub, '?topics=b')
    await hub.publish({ type: 'm', topic: 'a', data: 'x' })
    await hub.publish({ type: 'other', topic: 'a', data: 'y' })
    await Promise.all([a.sink.writesReach(2), b.sink.writesReach(2)])
    const [m, other] = (a.sink.writes[1] as string).split(/(?<=\n\n)/)
    expect(m).toContain('event: m\n')
    expect(other).toContain('event: other\n')
    expect(b.sink.writes[1]).toBe(m)
    expect(b.sink.text).not.toContain('event: other')
    expect(c.sink.writes).toHaveLength(1)
    expect(hub.stats().delivered).toBe(3)
    await hub.close()
  })

  test('a consumer whose transport buffer stays over the cap is told why, ended, counted, then torn down', async () => {
    const { hub } = hubWith({ maxBufferedBytes: 1_000, heartbeatMs: 30 })
    const slow = await connect(hub)
    const fast = await connect(hub)
    slow.sink.bufferedBytes = 5_000
    await hub.publish({ type: 'm', topic: 'a', data: 'x' })
    await Promise.all([slow.sink.writesReach(3), fast.sink.writesReach(2)])
    // The reason follows the backlog, then the stream ends; the others are untouched.
    expect(slow.sink.writes.at(-1)).toBe('event: rt.closing\ndata: {"reason":"slow_consumer"}\n\n')
    expect(slow.sink).toMatchObject({ ended: true, aborted: false })
    expect(fast.sink).toMatchObject({ ended: false, aborted: false })
    expect(hub.stats()).toMatchObject({ dropped: 1, connections: 1, topics: { a: 1 } })
    // Nothing more is written to the dropped one.
    await hub.publish({ type: 'm', topic: 'a', data: 'y' })
    await fast.sink.writesReach(3)
    expect(slow.sink.writes).toHaveLength(3)
    // Its transport never drained: one heartbeat interval later it is torn down.
    await expect.poll(() => slow.sink.aborted).toBe(true)
    expect(fast.sink.aborted).toBe(false)
    await hub.close()
  })
})

describe('close', () => {
  test('sends rt.closing, ends every sink, stops sources and refuses new work', async () => {
    const errors: unknown[] = []
    const { hub } = hubWith({ onError: (e) => errors.push(e) })
    const calls: string[] = []
    let context: SourceContext | undefined
    const ticker: Source = {
      name: 'ticker',
      start(ctx) {
        context = ctx
        calls.push('start')
      },
      async stop() {
        calls.push('stop')
      },
      status: () => ({ state: 'running', lastEventAt: 42 }),
    }
    const broken: Source = {
      name: 'broken',
      start() {
        throw new Error('cannot connect')
      },
      stop() {
        calls.push('stop broken')
      },
    }
    await hub.attach(ticker)
    await hub.attach(broken)
    expect(hub.stats().sources).toEqual([
      { name: 'ticker', state: 'running', lastEventAt: 42 },
      { name: 'broken', state: 'failed', error: 'cannot connect' },
    ])
    expect(errors).toHaveLength(1)

    const streams = await Promise.all([connect(hub), connect(hub, '?topics=b')])
    await context?.publish({ type: 'tick', topic: 'a', data: 1 })
    await streams[0].sink.writesReach(2)

    await hub.close()
    expect(calls).toEqual(['start', 'stop', 'stop broken'])
    for (const { sink } of streams) {
      expect(sink.writes.at(-1)).toBe('event: rt.closing\ndata: {"reason":"shutdown"}\n\n')
      expect(sink.ended).toBe(true)
      expect(sink.aborted).toBe(false)
    }
    expect(hub.stats()).toMatchObject({ closed: true, connections: 0, topics: {}, users: {}, sources: [] })

    await expect(hub.publish({ type: 'm', topic: 'a', data: 1 })).rejects.toMatchObject({ code: 'hub_closed' })
    await expect(context?.publish({ type: 'm', topic: 'a', data: 1 })).rejects.toMatchObject({ code: 'hub_closed' })
    const refused = await hub.handle(request('?topics=a'))
    expect(refused).toMatchObject({ kind: 'response', status: 503, headers: { 'retry-after': '1' } })
    await expect(hub.attach(ticker)).rejects.toMatchObject({ code: 'hub_closed' })
    await hub.close() // idempotent
    expect(calls).toHaveLength(3)
  })

  test('a stream accepted just before close and opened after it is ended, not left hanging', async () => {
    const { hub, timers } = hubWith()
    const accepted = asStream(await hub.handle(request('?topics=a')))
    await hub.close()
    const sink = new RecordingSink()
    const handle = accepted.open(sink)
    expect(sink.ended).toBe(true)
    expect(sink.text).toBe('event: rt.closing\ndata: {"reason":"shutdown"}\n\n')
    handle.close()
    expect(hub.stats().connections).toBe(0)
    expect(timers.active.size).toBe(0)
  })

  test('bytes still queued when close starts go out before rt.closing', async () => {
    const { hub } = hubWith()
    const { sink } = await connect(hub)
    await hub.publish({ type: 'm', topic: 'a', data: 'last' })
    await hub.close()
    expect(sink.text).toMatch(/\nid: [^\n]+\nevent: m\n[^\n]+"data":"last"\}\n\nevent: rt\.closing\n[^\n]+\n\n$/)
    expect(sink.ended).toBe(true)
  })

  test('attach returns a detach that stops the source and removes it from stats', async () => {
    const { hub } = hubWith()
    let stopped = 0
    const detach = await hub.attach({ name: 'once', start() {}, stop: () => void stopped++ })
    expect(hub.stats().sources).toEqual([{ name: 'once', state: 'running' }])
    await detach()
    await detach()
    expect(stopped).toBe(1)
    expect(hub.stats().sources).toEqual([])
    await hub.close()
    expect(stopped).toBe(1)
  })

  test('a source that reports an error shows as failed', async () => {
    const errors: unknown[] = []
    const { hub } = hubWith({ onError: (e) => errors.push(e) })
    let context: SourceContext | undefined
    await hub.attach({
      name: 'feed',
      start(ctx) {
        context = ctx
      },
      stop() {},
    })
    const failure = new Error('history lost')
    context?.reportError(failure)
    expect(hub.stats().sources).toEqual([{ name: 'feed', state: 'failed', error: 'history lost' }])
    expect(errors).toEqual([failure])
    await hub.close()
  })
})

describe('createHub options', () => {
  test.each([
    ['heartbeatMs', 0],
    ['heartbeatMs', -1],
    ['retryMs', Number.NaN],
    ['maxConnectionsPerIdentity', 0],
    ['maxConnections', -5],
    ['maxBufferedBytes', '1mb'],
    ['maxTopics', 0],
    ['maxQueryLength', null],
    ['pollTimeoutMs', Number.NEGATIVE_INFINITY],
  ])('%s = %s is rejected with invalid_option', (name, value) => {
    let thrown: unknown
    try {
      createHub({ [name]: value } as HubOptions)
    } catch (error) {
      thrown = error
    }
    expect(isRtError(thrown)).toBe(true)
    expect(thrown).toBeInstanceOf(RtError)
    expect(thrown).toMatchObject({ code: 'invalid_option' })
    expect((thrown as Error).message).toContain(name)
  })

  test('memoryLog rejects a capacity that is not a positive integer', () => {
    for (const capacity of [0, -1, 1.5]) {
      expect(() => memoryLog({ capacity })).toThrow(expect.objectContaining({ code: 'invalid_option' }))
    }
  })

  test('defaults are filled in and exposed', async () => {
    const hub = createHub()
    expect(hub.options).toEqual({ heartbeatMs: 15_000, retryMs: 1_000 })
    await hub.close()
  })
})

describe('replay from a custom log', () => {
  test('a log that answers `more` without moving on fails the replay instead of spinning', async () => {
    const errors: unknown[] = []
    const base = memoryLog()
    const stuck: Log = {
      append: (input) => base.append(input),
      head: () => base.head(),
      subscribe: (listener) => base.subscribe(listener),
      read: async () => ({ ok: true, entries: [], more: true }),
    }
    const { hub } = hubWith({ log: stuck, onError: (e) => errors.push(e) })
    const from = base.head()
    const sink = new RecordingSink()
    const req = request('?topics=a')
    req.headers.set('last-event-id', from)
    asStream(await hub.handle(req)).open(sink)
    await expect.poll(() => errors.length).toBe(1)
    expect(errors[0]).toMatchObject({ code: 'internal' })
    await expect.poll(() => hub.stats().connections).toBe(0)
    await hub.close()
  })
})
