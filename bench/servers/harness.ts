/**
 * What every benchmarked server process shares: the publish loops and usage reports.
 * A server module supplies `listen` plus how to broadcast and how to target users.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Message, serve } from '../lib/ipc.js'
import { nowMs } from '../lib/stats.js'

/**
 * Listen backlog for every benchmarked server. Node's default (511) overflows when thousands
 * of clients reconnect at once, and a dropped SYN is retried only after a second.
 */
export const BACKLOG = 4096

/** Listens on a free loopback port with {@link BACKLOG}; resolves to the port. */
export function listenOnLoopback(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', BACKLOG, () => resolve((server.address() as AddressInfo).port)),
  )
}

export interface BenchServer {
  /** Starts listening on a free loopback port; resolves to it. */
  listen(): Promise<number>
  /** Sends one event to every connected client. */
  broadcast(payload: BenchPayload): void | Promise<void>
  /** Sends one event to these users only (undefined: the server cannot target). */
  target?(userIds: readonly string[], payload: BenchPayload): void | Promise<void>
  /** Path and query clients connect to (user id appended by the load generator). */
  readonly path: string
  /** Releases what the server holds outside the process (Redis keys), before it exits. */
  close?(): Promise<void>
}

export interface BenchPayload {
  /** Sequence number, 1-based, per publish run. */
  s: number
  /** Publish time (ms, cross-process clock). */
  t: number
  p: string
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

export async function runServer(server: BenchServer): Promise<void> {
  const port = await server.listen()
  let seq = 0
  serve({
    usage: () => {
      const mem = process.memoryUsage()
      return { usage: true, cpu: process.cpuUsage(), rss: mem.rss, heap: mem.heapUsed }
    },
    gc: () => {
      ;(globalThis as { gc?: () => void }).gc?.()
      ;(globalThis as { gc?: () => void }).gc?.()
      const mem = process.memoryUsage()
      return { gcDone: true, rss: mem.rss, heap: mem.heapUsed }
    },
    seq: () => ({ seq }),
    // A clean exit, so `--cpu-prof` gets to write its profile.
    exit: () => {
      setImmediate(async () => {
        await server.close?.().catch(() => {})
        process.exit(0)
      })
      return { exiting: true }
    },
    resetSeq: () => {
      seq = 0
      return { seqReset: true }
    },
    // As fast as possible: `batch` events per event-loop turn, `count` in all.
    burst: async (m: Message) => {
      const count = m.count as number
      const batch = m.batch as number
      const pad = 'x'.repeat(m.size as number)
      const started = nowMs()
      for (let i = 0; i < count; i++) {
        await server.broadcast({ s: ++seq, t: nowMs(), p: pad })
        if (i % batch === batch - 1) await tick()
      }
      return { burstDone: true, ms: nowMs() - started, last: seq }
    },
    // A fixed rate for a duration.
    rate: async (m: Message) => {
      const perSecond = m.perSecond as number
      const count = Math.round((perSecond * (m.durationMs as number)) / 1000)
      const pad = 'x'.repeat(m.size as number)
      const interval = 1000 / perSecond
      const started = nowMs()
      for (let i = 0; i < count; i++) {
        const due = started + i * interval
        const wait = due - nowMs()
        if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait))
        await server.broadcast({ s: ++seq, t: nowMs(), p: pad })
      }
      return { rateDone: true, last: seq }
    },
    // Each event to `recipients` random users out of `users`.
    targeted: async (m: Message) => {
      if (server.target === undefined) return { targetedDone: true, unsupported: true }
      const { count, recipients, users } = m as unknown as { count: number; recipients: number; users: number }
      const pad = 'x'.repeat(m.size as number)
      for (let i = 0; i < count; i++) {
        const to: string[] = []
        for (let r = 0; r < recipients; r++) to.push(`u${(i * 7919 + r * 104729) % users}`)
        await server.target(to, { s: ++seq, t: nowMs(), p: pad })
        if (i % 10 === 9) await tick()
      }
      return { targetedDone: true, last: seq }
    },
  })
  process.send?.({ ready: true, port, path: server.path })
}
