/**
 * `redisBus`: every node gets every event through Redis pub/sub, with ids assigned once in
 * Redis, and keeps the newest ones in memory for resume.
 * @module
 */
import {
  type Log,
  type LogAppend,
  type LogEntry,
  type LogGap,
  type LogRead,
  type LogStatus,
  type ResetReason,
  RtError,
} from '../index.js'
import { boundedWrites } from './bounded-writes.js'
import { connect, durationMs, positiveInt, type RedisTarget, randomId, unavailable } from './client.js'
import { Progress, Ring } from './ring.js'
import { ensureEpoch, ROTATE_EPOCH, Script, SERVER_MS } from './script.js'

/** Options of {@link redisBus}. */
export interface RedisBusOptions {
  /**
   * The pub/sub channel. It also names the bus's keys (`<channel>:meta` and
   * `<channel>:key:<key>`); on Redis Cluster give it a hash tag, e.g. `{rt}:bus`.
   * @default 'rt:bus'
   */
  channel?: string
  /** Events each node keeps in memory; a client away for longer gets `rt.reset`. @default 10_000 */
  capacity?: number
  /** Publishes that may wait for an unreachable Redis at once; past that `publish` fails at once. @default 1_000 */
  maxPending?: number
  /**
   * How long a publish waits for an unreachable Redis. It then fails with code
   * `unavailable` and is guaranteed not to be delivered later.
   * @default 10_000
   */
  publishTimeoutMs?: number
  /** How long idempotency keys are remembered. @default 600_000 */
  keyTtlMs?: number
  /**
   * How long a resume waits for this node to receive an id another node already
   * delivered (pub/sub is not instantaneous); past that the client is reset.
   * @default 2_000
   */
  catchUpMs?: number
}

interface Subscriber {
  entry(entry: LogEntry): void
  gap?: ((gap: LogGap) => void) | undefined
}

/** Message on the channel: `<epoch>|<seq>|<ts>|<json>`; a probe is `!<epoch>|<seq>`. */
interface Body {
  t: string
  p: string
  u?: string[]
  d: unknown
  k?: string
}

// KEYS: meta, [dedupe]; ARGV: candidate epoch, body, channel, key ttl.
const APPEND = new Script(`${ensureEpoch('KEYS[1]')}
if KEYS[2] then
  local prev = redis.call('GET', KEYS[2])
  if prev then
    local e, s, t = string.match(prev, '^([^|]+)|(%d+)|(%d+)$')
    if e == epoch then return {epoch, s, t, '1'} end
  end
end
local seq = tostring(redis.call('HINCRBY', KEYS[1], 'seq', 1))
${SERVER_MS}
local head = epoch .. '|' .. seq .. '|' .. string.format('%.0f', ms)
if KEYS[2] then redis.call('SET', KEYS[2], head, 'PX', ARGV[4]) end
redis.call('PUBLISH', ARGV[3], head .. '|' .. ARGV[2])
return {epoch, seq, string.format('%.0f', ms), '0'}`)

// Published in order with the events: a node that sees it with a higher seq than its own
// knows it missed events. KEYS: meta; ARGV: candidate epoch, channel.
const PROBE = new Script(`${ensureEpoch('KEYS[1]')}
local seq = redis.call('HGET', KEYS[1], 'seq') or '0'
redis.call('PUBLISH', ARGV[2], '!' .. epoch .. '|' .. seq)
return seq`)

const SEQ = /^\d{1,15}$/

/**
 * A delivery log for several nodes without a shared durable store. A publish on any node
 * runs one Lua script that takes the next id from a counter in Redis and publishes the
 * event on a channel, so ids are assigned once and every node receives every event in id
 * order. Each node keeps the newest `capacity` events in memory: a client may resume on
 * any node that still holds its id.
 *
 * When a node's subscription was cut (a Redis restart, a network partition, a slow node
 * disconnected by Redis), the events published meanwhile are lost to it: it notices the
 * hole in the ids (a probe is published after every reconnect), and every client that may
 * have missed them gets `rt.reset`. Publishes while Redis is unreachable wait (bounded by
 * `maxPending` and `publishTimeoutMs`) and are delivered everywhere with their ids once it
 * is back; they are never delivered locally first, so ids stay one total order.
 *
 * Resolves once subscribed. Needs Redis 6.2+.
 *
 * @example
 * ```ts
 * import { redisBus } from '@rt/server/redis'
 * const hub = createHub({ log: await redisBus({ url: process.env.REDIS_URL }) })
 * ```
 */
export async function redisBus(target: RedisTarget, options: RedisBusOptions = {}): Promise<Log> {
  const who = 'redisBus'
  const channel = options.channel ?? 'rt:bus'
  const capacity = positiveInt(who, 'capacity', options.capacity, 10_000)
  const maxPending = positiveInt(who, 'maxPending', options.maxPending, 1_000)
  const publishTimeoutMs = durationMs(who, 'publishTimeoutMs', options.publishTimeoutMs, 10_000)
  const keyTtlMs = positiveInt(who, 'keyTtlMs', options.keyTtlMs, 600_000)
  const catchUpMs = durationMs(who, 'catchUpMs', options.catchUpMs, 2_000)
  const metaKey = `${channel}:meta`

  const conns = await connect(target, who)
  const writes = boundedWrites(who, () => conns.client.isReady, maxPending, publishTimeoutMs)
  const ring = new Ring(capacity)
  const progress = new Progress()
  const subscribers = new Set<Subscriber>()
  let epoch: string | null = null
  let gaps = 0
  let closed = false

  const idOf = (seq: number) => `${epoch}-${seq}`

  function restart(next: string, base: number, reason: ResetReason | null): void {
    epoch = next
    ring.restart(base)
    if (reason !== null) {
      gaps++
      const gap: LogGap = { id: idOf(base), reason }
      for (const sub of subscribers) sub.gap?.(gap)
    }
  }

  function onMessage(message: string): void {
    if (message.startsWith('!')) {
      onProbe(message.slice(1))
      return
    }
    const [e, s, t] = message.split('|', 3)
    if (e === undefined || s === undefined || t === undefined || !SEQ.test(s)) return
    let body: Body
    try {
      body = JSON.parse(message.slice(e.length + s.length + t.length + 3)) as Body
    } catch {
      return
    }
    const seq = Number(s)
    // A new epoch: Redis lost the counter. A hole: this node missed events.
    if (epoch !== e) restart(e, seq - 1, epoch === null ? null : 'unknown')
    else if (seq <= ring.last) return
    else if (seq > ring.last + 1) restart(e, seq - 1, 'evicted')
    const entry: LogEntry = {
      id: `${e}-${s}`,
      type: body.t,
      topic: body.p,
      to: body.u,
      data: body.d,
      ts: Number(t),
      key: body.k,
    }
    ring.push(seq, entry)
    for (const sub of subscribers) sub.entry(entry)
    progress.wake()
  }

  function onProbe(text: string): void {
    const [e, s] = text.split('|')
    if (e === undefined || s === undefined || !SEQ.test(s)) return
    const seq = Number(s)
    if (epoch !== e) restart(e, seq, epoch === null ? null : 'unknown')
    else if (seq > ring.last) restart(e, seq, 'evicted')
    else if (seq < ring.last) {
      // Redis went back in time (restored from an older snapshot): its next ids would
      // repeat ones already delivered, so the epoch changes and everyone starts over.
      ROTATE_EPOCH.run(conns.client, [metaKey], [e, randomId()])
        .then(() => probe())
        .catch(() => {})
    }
    progress.wake()
  }

  async function probe(): Promise<void> {
    for (let attempt = 0; !closed; attempt++) {
      try {
        await PROBE.run(conns.client, [metaKey], [randomId(), channel])
        return
      } catch {
        await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** attempt)))
      }
    }
  }

  const sub = await conns.dedicated()
  await sub.subscribe(channel, onMessage)
  // After each reconnect: a probe tells whether anything was published meanwhile.
  sub.on('ready', () => void probe())
  await probe()
  await progress.until(() => epoch !== null, catchUpMs)
  if (epoch === null) {
    await conns.close()
    throw unavailable(who, undefined, `no message came back on channel ${channel}`)
  }

  return {
    async append(input: LogAppend): Promise<LogEntry> {
      if (closed) throw new RtError('hub_closed', `${who}: closed`)
      return writes.run(async (signal) => {
        const body: Body = { t: input.type, p: input.topic, d: input.data }
        if (input.to !== undefined) body.u = [...input.to]
        if (input.key !== undefined) body.k = input.key
        const keys = input.key === undefined ? [metaKey] : [metaKey, `${channel}:key:${input.key}`]
        const args = [randomId(), JSON.stringify(body), channel, String(keyTtlMs)]
        const reply = (await APPEND.run(conns.client, keys, args, signal)) as string[]
        const [e, s, t, duplicate] = reply as [string, string, string, string]
        if (duplicate === '1' && e === epoch) {
          const first = ring.get(Number(s))
          if (first !== undefined) return first
        }
        return {
          id: `${e}-${s}`,
          type: input.type,
          topic: input.topic,
          to: input.to,
          data: input.data,
          ts: Number(t),
          key: input.key,
        }
      })
    },

    async read(afterId: string, limit: number): Promise<LogRead> {
      const dash = afterId.lastIndexOf('-')
      const seqText = afterId.slice(dash + 1)
      if (dash <= 0 || !SEQ.test(seqText)) return { ok: false, reason: 'malformed' }
      const idEpoch = afterId.slice(0, dash)
      const after = Number(seqText)
      // An id another node delivered before this one received it: wait for pub/sub.
      await progress.until(() => epoch !== idEpoch || ring.last >= after, catchUpMs)
      if (epoch !== idEpoch || after > ring.last) return { ok: false, reason: 'unknown' }
      if (after < ring.base) return { ok: false, reason: 'evicted' }
      return { ok: true, ...ring.after(after, limit) }
    },

    async lookup(ids) {
      return ids.map((id) => {
        const dash = id.lastIndexOf('-')
        const seqText = id.slice(dash + 1)
        if (dash <= 0 || !SEQ.test(seqText) || id.slice(0, dash) !== epoch) return undefined
        const held = ring.get(Number(seqText))
        return held?.id === id ? held : undefined
      })
    },

    head: () => idOf(ring.last),

    subscribe(listener, onGap) {
      const sub: Subscriber = { entry: listener, gap: onGap }
      subscribers.add(sub)
      return () => subscribers.delete(sub)
    },

    status(): LogStatus {
      const up = conns.up
      return {
        state: up ? 'ok' : 'degraded',
        detail: up ? undefined : 'redis unreachable',
        pending: writes.pending,
        gaps,
      }
    },

    async close() {
      if (closed) return
      closed = true
      subscribers.clear()
      progress.wake()
      await conns.close()
    },
  }
}
