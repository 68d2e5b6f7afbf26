/**
 * A load-generator process: opens SSE (raw `http.request`, minimal parsing) or Socket.IO
 * connections, checks every event for loss and duplicates, and samples latency.
 */
import http from 'node:http'
import { io, type Socket } from 'socket.io-client'
import { type Message, serve } from '../lib/ipc.js'
import { profileHandlers } from '../lib/profile.js'
import { nowMs, percentile } from '../lib/stats.js'

const [origin = '', path = '', kind = 'sse', localAddress] = process.argv.slice(2)
const agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY })

interface Conn {
  user: string
  lastSeq: number
  lastId: string | undefined
  events: number
  close(): void
}

const conns: Conn[] = []
const counters = { events: 0, duplicates: 0, gaps: 0 }
const SAMPLE = 400_000
const latencies = new Float64Array(SAMPLE)
let sampled = 0
let watchers: (() => void)[] = []

function record(conn: Conn, seq: number, sentAt: number, strict: boolean): void {
  if (seq <= conn.lastSeq) counters.duplicates++
  else {
    if (strict && conn.lastSeq !== 0 && seq !== conn.lastSeq + 1) counters.gaps++
    conn.lastSeq = seq
  }
  conn.events++
  counters.events++
  latencies[sampled++ % SAMPLE] = nowMs() - sentAt
  if ((counters.events & 1023) === 0 || watchers.length > 0) {
    const pending = watchers
    watchers = []
    for (const check of pending) check()
  }
}

let strict = true
const PAYLOAD = /"s":(\d+),"t":([\d.]+)/

function openSse(user: string, lastId: string | undefined, existing?: Conn): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept: 'text/event-stream' }
    if (lastId !== undefined) headers['last-event-id'] = lastId
    const conn: Conn = existing ?? { user, lastSeq: 0, lastId, events: 0, close: () => {} }
    const req = http.get({
      host: new URL(origin).hostname,
      port: new URL(origin).port,
      path: path + user,
      agent,
      // Several source addresses, so one server can hold more than ~28k loopback connections.
      localAddress,
      headers,
    })
    req.once('error', reject)
    req.once('response', (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`status ${res.statusCode}`))
        res.resume()
        return
      }
      conn.close = () => req.destroy()
      res.setEncoding('utf8')
      let carry = ''
      res.on('data', (chunk: string) => {
        const text = carry + chunk
        let start = 0
        for (;;) {
          const end = text.indexOf('\n\n', start)
          if (end === -1) break
          const block = text.slice(start, end)
          start = end + 2
          const idAt = block.indexOf('id:')
          if (idAt !== -1) {
            const lineEnd = block.indexOf('\n', idAt)
            conn.lastId = block.slice(idAt + 3, lineEnd === -1 ? undefined : lineEnd).trim()
          }
          const match = PAYLOAD.exec(block)
          if (match !== null) record(conn, Number(match[1]), Number(match[2]), strict)
        }
        carry = text.slice(start)
      })
      res.once('error', () => {})
      resolve(conn)
    })
  })
}

function openSocketIo(user: string): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket: Socket = io(origin, {
      transports: ['websocket'],
      query: { u: user },
      reconnection: false,
      forceNew: true,
    })
    const conn: Conn = { user, lastSeq: 0, lastId: undefined, events: 0, close: () => socket.disconnect() }
    socket.on('tick', (payload: { s: number; t: number }) => record(conn, payload.s, payload.t, strict))
    socket.once('connect', () => resolve(conn))
    socket.once('connect_error', reject)
  })
}

async function inBatches<T>(items: readonly T[], size: number, fn: (item: T) => Promise<unknown>) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn))
}

/**
 * Whether every client holds sequence `seq`, checked after each event: a client that holds it
 * keeps it (sequences only grow), so the scan resumes where it stopped, and checking after
 * every one of 100,000 events costs one pass over the clients, not one per event.
 */
function allReach(seq: number): () => boolean {
  let next = 0
  return () => {
    while (next < conns.length && (conns[next] as Conn).lastSeq >= seq) next++
    return next === conns.length
  }
}

function waitUntil(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const deadline = setTimeout(() => resolve(false), timeoutMs)
    const check = () => {
      if (predicate()) {
        clearTimeout(deadline)
        resolve(true)
      } else watchers.push(check)
    }
    check()
  })
}

serve({
  connect: async (m: Message) => {
    const count = m.count as number
    const offset = m.offset as number
    const started = nowMs()
    const users = Array.from({ length: count }, (_, i) => `u${offset + i}`)
    await inBatches(users, 200, async (user) => {
      conns.push(kind === 'socketio' ? await openSocketIo(user) : await openSse(user, undefined))
    })
    return { connected: conns.length, ms: nowMs() - started }
  },
  reset: (m: Message) => {
    counters.events = 0
    counters.duplicates = 0
    counters.gaps = 0
    sampled = 0
    strict = m.strict !== false
    for (const conn of conns) conn.events = 0
    return { resetDone: true }
  },
  stats: () => {
    const n = Math.min(sampled, SAMPLE)
    const sorted = latencies.slice(0, n).sort()
    return {
      stats: true,
      ...counters,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      minPerConn: conns.reduce((min, c) => Math.min(min, c.events), Number.POSITIVE_INFINITY),
    }
  },
  // Resolves once the clients together received `total` events.
  waitTotal: async (m: Message) => {
    const reached = await waitUntil(() => counters.events >= (m.total as number), (m.timeoutMs as number) ?? 60_000)
    return { waited: true, reached, events: counters.events }
  },
  // Resolves once every connection has seen sequence number `seq`.
  waitSeq: async (m: Message) => {
    const seq = m.seq as number
    const started = nowMs()
    const reached = await waitUntil(allReach(seq), (m.timeoutMs as number) ?? 60_000)
    return { caughtUp: reached, ms: nowMs() - started }
  },
  // All clients drop and reconnect at once with their Last-Event-ID; resolves once every
  // one of them is back and holds sequence `seq` (what was published before the drop).
  storm: async (m: Message) => {
    for (const conn of conns) conn.close()
    const started = nowMs()
    // All at once, as after a server restart or a network blip.
    await Promise.all(conns.map((conn) => openSse(conn.user, conn.lastId, conn)))
    const caughtUp = await waitUntil(allReach(m.seq as number), 60_000)
    return { stormDone: true, caughtUp, ms: nowMs() - started }
  },
  // Every client drops; they resume later with `resume`.
  dropAll: async () => {
    // Each client must hold a position (the id of its rt.connected) before it leaves.
    const deadline = nowMs() + 30_000
    while (conns.some((c) => c.lastId === undefined) && nowMs() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    for (const conn of conns) conn.close()
    return { dropped: conns.length }
  },
  // All clients reconnect at once with their Last-Event-ID; resolves once each holds its
  // sequence `seq` (or at the timeout), with how many did and how many events were missing.
  resume: async (m: Message) => {
    const seq = m.seq as number
    const started = nowMs()
    await Promise.all(conns.map((conn) => openSse(conn.user, conn.lastId, conn)))
    const connectedMs = nowMs() - started
    const caughtUp = await waitUntil(allReach(seq), (m.timeoutMs as number) ?? 60_000)
    const ms = nowMs() - started
    const behind = conns.filter((c) => c.lastSeq < seq)
    const missing = behind.reduce((sum, c) => sum + (seq - c.lastSeq), 0)
    return { resumed: true, caughtUp, ms, connectedMs, behind: behind.length, missing }
  },
  close: () => {
    for (const conn of conns) conn.close()
    return { closed: true }
  },
  ...profileHandlers,
})
process.send?.({ ready: true })
