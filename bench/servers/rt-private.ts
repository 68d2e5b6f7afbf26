/**
 * rt with one private topic per user (`user:<n>`), on the log named by argv[2]: `memory`,
 * `redis` (redisLog on the local redis-server) or `mongo-sim` (mongoLog against the MongoDB
 * simulator in its own process). Counts what replay and long-poll read from the log.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createHub, type Log, memoryLog } from '@rt/server'
import { mongoLog } from '@rt/server/mongo'
import { toNodeHandler } from '@rt/server/node'
import { redisLog } from '@rt/server/redis'
import { MongoClient } from 'mongodb'
import { serve } from '../lib/ipc.js'
import { profileHandlers } from '../lib/profile.js'
import { nowMs } from '../lib/stats.js'
import { listenOnLoopback } from './harness.js'
import { dropRedisKeys, REDIS_URL } from './redis-keys.js'

export type PrivateLogKind = 'memory' | 'redis' | 'mongo-sim'
const kind = (process.argv[2] ?? 'memory') as PrivateLogKind
const capacity = Number(process.argv[3] ?? 200_000)
const stream = `rt-bench:${Math.random().toString(36).slice(2, 10)}`
const cleanups: (() => Promise<void>)[] = []

/** BENCH_CPU_PROF=dir: the simulator is profiled too, and the storm's window is written there. */
const profile = process.env.BENCH_CPU_PROF

/** The MongoDB simulator in a process of its own, so its CPU is not charged to the hub. */
async function startSim(): Promise<string> {
  const cli = fileURLToPath(new URL('../../packages/server/test/mongo-sim/cli.ts', import.meta.url))
  const prof = profile ? ['--cpu-prof', `--cpu-prof-dir=${join(profile, 'sim')}`] : []
  const child: ChildProcess = spawn(process.execPath, [...prof, '--import', 'tsx', cli], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  cleanups.push(async () => {
    child.kill('SIGTERM')
  })
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  for await (const line of lines) return line.trim()
  throw new Error('the MongoDB simulator did not start')
}

async function openLog(): Promise<Log> {
  if (kind === 'memory') return memoryLog({ capacity })
  if (kind === 'redis') {
    cleanups.push(() => dropRedisKeys(stream))
    return redisLog({ url: REDIS_URL, stream }, { maxLen: capacity })
  }
  const client = new MongoClient(await startSim(), { directConnection: true, monitorCommands: true })
  // MongoDB round trips during the storm: what batching filtered reads saves.
  client.on('commandStarted', () => {
    if (window.start !== undefined && window.end === undefined) reads.commands++
  })
  await client.connect()
  cleanups.unshift(() => client.close())
  return mongoLog({ db: client.db('bench'), retention: { maxEntries: capacity }, pollMs: 50 })
}

/** What the hub read from the log: calls, entries handed back, MongoDB commands sent. */
const reads = { calls: 0, entries: 0, commands: 0 }
/** When the storm began and ended (µs on the monotonic clock that CPU profiles use). */
const window: { start?: number; end?: number } = {}
const micros = () => Number(process.hrtime.bigint() / 1000n)
function counted(log: Log): Log {
  return {
    append: (input) => log.append(input),
    head: () => log.head(),
    subscribe: (listener, onGap) => log.subscribe(listener, onGap),
    status: log.status === undefined ? undefined : () => log.status?.() ?? { state: 'ok' },
    close: () => log.close?.() ?? Promise.resolve(),
    // Forwards every argument, so a filtered read stays filtered.
    async read(...args: Parameters<Log['read']>) {
      const page = await log.read(...args)
      reads.calls++
      if (page.ok) reads.entries += page.entries.length
      return page
    },
  }
}

const log = counted(await openLog())
const hub = createHub<Record<string, unknown>, { userId: string }>({
  log,
  // The user is the topic's suffix: `topics=user:u17` belongs to `u17`.
  authenticate: (req) => ({ userId: (req.url.searchParams.get('topics') ?? '').replace(/^user:/, '') }),
  authorize: (identity, topic) => topic === `user:${identity.userId}`,
  maxConnections: 1_000_000,
})
const server = createServer(toNodeHandler(hub))
const port = await listenOnLoopback(server)

serve({
  // `events` events round-robin over `users` users; `s` counts per user, from 1.
  seed: async (m) => {
    const users = m.users as number
    const events = m.events as number
    const pad = 'x'.repeat(64)
    const started = nowMs()
    const inFlight = new Set<Promise<unknown>>()
    for (let i = 0; i < events; i++) {
      const user = i % users
      const s = Math.floor(i / users) + 1
      const p = hub.publish({ type: 'tick', topic: `user:u${user}`, data: { s, t: nowMs(), p: pad } })
      inFlight.add(p)
      void p.finally(() => inFlight.delete(p))
      if (inFlight.size >= 64) await Promise.race(inFlight)
    }
    await Promise.all(inFlight)
    return { seeded: true, ms: nowMs() - started }
  },
  reads: () => {
    window.end = micros()
    if (profile) writeFileSync(join(profile, 'storm-window.json'), JSON.stringify(window))
    return { readsDone: true, ...reads }
  },
  resetReads: () => {
    reads.calls = 0
    reads.entries = 0
    reads.commands = 0
    window.start = micros()
    window.end = undefined
    return { readsReset: true }
  },
  usage: () => ({ usage: true, cpu: process.cpuUsage() }),
  ...profileHandlers,
  exit: async () => {
    setImmediate(async () => {
      await hub.close().catch(() => {})
      for (const cleanup of cleanups) await cleanup().catch(() => {})
      process.exit(0)
    })
    return { exiting: true }
  },
})
process.send?.({ ready: true, port, path: '/events?topics=user:' })
