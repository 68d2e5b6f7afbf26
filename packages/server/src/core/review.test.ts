/**
 * Regression tests from a review of the delivery core: topic resets through `types=`
 * filters, connections dropped while the hub is still writing to them, and the flush timer
 * at close.
 */
import { createParser } from 'eventsource-parser'
import { afterEach, describe, expect, test } from 'vitest'
import { createHub, type Hub } from './hub.js'
import type { HubResponse, HubStreamResponse, StreamHandle, StreamSink } from './sink.js'
import type { HubOptions, SourceContext, Timers } from './types.js'

const decoder = new TextDecoder()

interface Parsed {
  readonly id: string | undefined
  readonly event: string
  readonly data: unknown
}

/** A sink as an adapter implements one; its transport buffer can be made to stall. */
class TestSink implements StreamSink {
  readonly events: Parsed[] = []
  text = ''
  bufferedBytes = 0
  /** While set, written bytes stay in the "transport" until `drain()`. */
  stalled = false
  ended = false
  aborts = 0
  private drains: (() => void)[] = []
  private waiters: (() => void)[] = []
  private readonly parser = createParser({
    onEvent: (e) => this.events.push({ id: e.id, event: e.event ?? 'message', data: JSON.parse(e.data) }),
  })
  write(chunk: Uint8Array): void {
    if (this.ended || this.aborts > 0) throw new Error('write after end or abort')
    const text = decoder.decode(chunk)
    this.text += text
    this.parser.feed(text)
    if (this.stalled) this.bufferedBytes += chunk.byteLength
    this.wake()
  }
  onDrain(listener: () => void): void {
    this.drains.push(listener)
    this.wake()
  }
  end(): void {
    this.ended = true
    this.wake()
  }
  abort(): void {
    this.aborts++
    this.wake()
  }
  get waitingForDrain(): boolean {
    return this.drains.length > 0
  }
  drain(): void {
    this.stalled = false
    this.bufferedBytes = 0
    for (const listener of this.drains.splice(0)) listener()
  }
  /** Resolves once `condition` holds; re-checked on every call the hub makes into the sink. */
  async until(condition: () => boolean): Promise<void> {
    while (!condition()) await new Promise<void>((resolve) => this.waiters.push(resolve))
  }
  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake()
  }
}

/** Heartbeat timers that never fire on their own. */
const idleTimers: Timers = { setInterval: () => 0, clearInterval: () => {} }

const hubs: Hub[] = []
afterEach(async () => {
  for (const hub of hubs.splice(0)) await hub.close()
})

function hubWith(options: HubOptions = {}): Hub {
  const hub = createHub({ timers: idleTimers, ...options })
  hubs.push(hub)
  return hub
}

function request(query: string, lastEventId?: string) {
  const headers = new Headers(lastEventId === undefined ? {} : { 'last-event-id': lastEventId })
  return { method: 'GET', url: new URL(`http://localhost/events${query}`), headers, raw: null }
}

function asStream(response: HubResponse): HubStreamResponse {
  if (response.kind !== 'stream') throw new Error(`expected a stream, got ${response.status} ${response.body}`)
  return response
}

async function connect(hub: Hub, query: string, lastEventId?: string, sink = new TestSink()) {
  const handle: StreamHandle = asStream(await hub.handle(request(query, lastEventId))).open(sink)
  await sink.until(() => sink.events.some((e) => e.event === 'rt.connected'))
  return { sink, handle }
}

async function poll(hub: Hub, query: string) {
  const response = await hub.handle(request(`${query}&transport=poll`))
  if (response.kind !== 'response') throw new Error('expected a long-poll answer')
  expect(response.status).toBe(200)
  return JSON.parse(response.body) as { events: { id: string; type: string; topic: string; data: unknown }[] }
}

async function withSource(hub: Hub): Promise<SourceContext> {
  let context: SourceContext | undefined
  await hub.attach({
    name: 'feed',
    start(ctx) {
      context = ctx
    },
    stop() {},
  })
  if (context === undefined) throw new Error('source did not start')
  return context
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('a topic reset reaches subscribers that filter by type', () => {
  test('live: rt.reset passes types=x, other types do not', async () => {
    const hub = hubWith()
    const source = await withSource(hub)
    const { sink } = await connect(hub, '?topics=a&types=x')
    await hub.publish({ type: 'y', topic: 'a', data: 'filtered' })
    const x = await hub.publish({ type: 'x', topic: 'a', data: 'wanted' })
    const reset = await source.reset('a', 'history_lost')
    await sink.until(() => sink.events.some((e) => e.event === 'rt.reset'))
    expect(sink.events.slice(1)).toEqual([
      { id: x, event: 'x', data: expect.objectContaining({ topic: 'a', data: 'wanted' }) },
      { id: reset, event: 'rt.reset', data: { reason: 'history_lost', topic: 'a' } },
    ])
  })

  test('replay: a reset logged while the client was away is replayed to it', async () => {
    const hub = hubWith()
    const source = await withSource(hub)
    const from = await hub.publish({ type: 'x', topic: 'a', data: 0 })
    await hub.publish({ type: 'y', topic: 'a', data: 'filtered' })
    const reset = await source.reset('a', 'history_lost')
    const after = await hub.publish({ type: 'x', topic: 'a', data: 1 })
    const { sink } = await connect(hub, '?topics=a&types=x', from)
    await sink.until(() => sink.events.some((e) => e.id === after))
    expect(sink.events.slice(1).map((e) => [e.id, e.event])).toEqual([
      [reset, 'rt.reset'],
      [after, 'x'],
    ])
  })

  test('long-poll: a logged reset is answered, and a waiting poll is woken by one', async () => {
    const hub = hubWith()
    const source = await withSource(hub)
    const from = await hub.publish({ type: 'x', topic: 'a', data: 0 })
    const reset = await source.reset('a', 'history_lost')
    const logged = await poll(hub, `?topics=a&types=x&lastEventId=${from}`)
    expect(logged.events).toEqual([
      { id: reset, type: 'rt.reset', topic: 'a', ts: expect.any(Number), data: { reason: 'history_lost' } },
    ])

    // A short wait, so a reset that never arrives fails quickly instead of timing out.
    const waiting = poll(hub, `?topics=a&types=x&timeout=3000&lastEventId=${reset}`)
    await turn()
    const again = await source.reset('a', 'invalidated')
    const woken = await waiting
    expect(woken.events.map((e) => [e.id, e.type, e.data])).toEqual([[again, 'rt.reset', { reason: 'invalidated' }]])
  })
})

describe('a connection dropped while the hub is still writing to it', () => {
  test('is dropped and counted once when the live entries held during replay overflow it', async () => {
    // A short heartbeat: a dropped consumer's transport is torn down one interval later.
    const hub = hubWith({ maxBufferedBytes: 4_000, heartbeatMs: 50 })
    const pad = 'p'.repeat(550)
    const from = await hub.publish({ type: 'm', topic: 'a', data: 'start' })
    for (let i = 0; i < 6; i++) await hub.publish({ type: 'm', topic: 'a', data: { i, pad } })

    // The replay fills the transport and waits for room; meanwhile live events are held.
    const sink = new TestSink()
    sink.stalled = true
    asStream(await hub.handle(request('?topics=a', from))).open(sink)
    await sink.until(() => sink.waitingForDrain)
    for (let i = 0; i < 20; i++) await hub.publish({ type: 'm', topic: 'a', data: { live: i, pad } })

    // Catching up hands it all held entries at once: more than the cap, so it is dropped.
    sink.drain()
    await sink.until(() => sink.aborts > 0)
    await turn()
    expect(sink.aborts).toBe(1)
    expect(hub.stats()).toMatchObject({ dropped: 1, connections: 0 })
  })

  test('a watcher dropped by its own presence snapshot leaves no phantom presence', async () => {
    const hub = hubWith({
      maxBufferedBytes: 200,
      authenticate: (req) => ({ userId: req.url.searchParams.get('u') ?? undefined }),
    })
    const others = []
    for (let i = 0; i < 8; i++) others.push(await connect(hub, `?topics=a&u=user-${i}`))

    // Its snapshot of `a` (nine users) pushes it over the cap before it joins `b`.
    const sink = new TestSink()
    asStream(await hub.handle(request('?topics=a,b&presence=1&u=watcher'))).open(sink)
    await turn()
    // Dropped: told why and ended (torn down later if it never reads).
    expect(sink.ended).toBe(true)
    expect(sink.events.at(-1)).toMatchObject({ event: 'rt.closing', data: { reason: 'slow_consumer' } })
    expect(hub.stats()).toMatchObject({ dropped: 1, connections: 8 })
    expect(await hub.presence.online('a')).not.toContain('watcher')
    expect(await hub.presence.online('b')).toEqual([])

    // Later presence changes on `b` are not queued for the dropped watcher either.
    const closingEvents = sink.events.length
    await connect(hub, '?topics=b&u=late')
    await turn()
    expect(sink.events).toHaveLength(closingEvents)
    expect(hub.stats().dropped).toBe(1)
    await hub.close()
  })
})

/** Timers pending in this process, at their lowest over a few turns (the runner's come and go). */
async function steadyTimeouts(): Promise<number> {
  const count = () => process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length
  let lowest = count()
  for (let i = 0; i < 5; i++) {
    await turn()
    lowest = Math.min(lowest, count())
  }
  return lowest
}

describe('the coalescing flush', () => {
  test('an idle hub writes on the next turn; a busy one waits out the window', async () => {
    const hub = hubWith({ coalesceMs: 60_000 })
    const { sink } = await connect(hub, '?topics=a')
    // The connect wrote within the window: this write waits for its end (or for close).
    await hub.publish({ type: 'm', topic: 'a', data: 1 })
    await turn()
    expect(sink.events.filter((e) => e.event === 'm')).toHaveLength(0)
    await hub.close()
    expect(sink.events.map((e) => e.event)).toEqual(['rt.connected', 'm', 'rt.closing'])
    expect(sink.ended).toBe(true)
  })

  test('close writes what waited for the window and leaves no flush timer behind', async () => {
    const hub = hubWith({ coalesceMs: 60_000 })
    const { sink } = await connect(hub, '?topics=a')
    const before = await steadyTimeouts()
    await hub.publish({ type: 'm', topic: 'a', data: 1 })
    expect(await steadyTimeouts()).toBe(before + 1)
    await hub.close()
    expect(sink.events.map((e) => e.event)).toEqual(['rt.connected', 'm', 'rt.closing'])
    expect(await steadyTimeouts()).toBe(before)
  })
})

describe('caps and presence around streams that never open, and polls', () => {
  const byUser = (req: { url: URL }) => ({ userId: req.url.searchParams.get('u') ?? undefined })

  test('a stream cancelled or closed before it opens is never present and frees its slot', async () => {
    const hub = hubWith({ authenticate: byUser, maxConnectionsPerIdentity: 1 })
    const watcher = await connect(hub, '?topics=a&presence=1&u=w')
    asStream(await hub.handle(request('?topics=a&u=u'))).cancel()
    expect(hub.stats().users).toEqual({ w: 1 })
    const late = asStream(await hub.handle(request('?topics=a&u=u')))
    await hub.close()
    const sink = new TestSink()
    late.open(sink)
    expect(sink.events.map((e) => e.event)).toEqual(['rt.closing'])
    expect(sink.ended).toBe(true)
    // The watcher only ever saw itself.
    expect(watcher.sink.events.filter((e) => e.event === 'rt.presence').map((e) => e.data)).toEqual([
      { topic: 'a', online: ['w'] },
    ])
  })

  test('a waiting long-poll counts against the per-user cap until it is answered, and is not present', async () => {
    const hub = hubWith({ authenticate: byUser, maxConnectionsPerIdentity: 1 })
    const head = await hub.publish({ type: 'm', topic: 'a', data: 0 })
    const waiting = poll(hub, `?topics=a&u=u&timeout=3000&lastEventId=${head}`)
    await turn()
    expect(await hub.presence.online('a')).toEqual([])
    const refused = await hub.handle(request('?topics=a&u=u'))
    expect(refused).toMatchObject({ kind: 'response', status: 429 })
    const id = await hub.publish({ type: 'm', topic: 'a', data: 1 })
    expect((await waiting).events.map((e) => e.id)).toEqual([id])
    expect(hub.stats().connections).toBe(0)
    const { handle } = await connect(hub, '?topics=a&u=u')
    expect(await hub.presence.online('a')).toEqual(['u'])
    handle.close()
  })
})
