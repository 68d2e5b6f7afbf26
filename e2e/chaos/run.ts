/**
 * The chaos run: three hub processes (one per adapter: node, fetch, fastify) share a log
 * through a redis-server of the run's own; one of them also feeds the log from a MongoDB
 * change stream on the wire-level simulator. @rt/client instances (SSE, long-poll, auto;
 * each with its own user, topics and types) follow them through forwarders while the run
 * SIGKILLs and restarts hubs, kills and restarts Redis, injects MongoDB faults, cuts
 * client sockets and switches clients between transports. Then the oracle judges what
 * every client received.
 *
 * Every choice (clients, events, faults and their order) comes from the seed, so a seed
 * replays the same schedule; the timing of real processes and sockets still varies.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Client, createClient, type Transport } from '@rt/client'
import { build } from 'esbuild'
import { MongoClient } from 'mongodb'
import { type MongoSim, type MongoSimFault, startMongoSim } from '../../packages/server/test/mongo-sim/index.js'
import { type OwnRedis, startRedis } from '../fixtures/redis-harness.js'
import { type Forwarder, startForwarder } from './forwarder.js'
import type { ChaosNodeConfig, Item } from './node.js'
import { type Audience, emptyVerdict, judge, maySee, type Seen, type Sent, type Verdict } from './oracle.js'

export type Fault = 'kill-hub' | 'redis' | 'mongo' | 'cut' | 'switch'
export const FAULTS: readonly Fault[] = ['kill-hub', 'redis', 'mongo', 'cut', 'switch']

export interface ChaosPlan {
  readonly seed: number
  readonly mode: 'log' | 'bus'
  readonly clients: number
  /** Rounds of publishing; a fault follows each round. */
  readonly rounds: number
  /** App events per round (database inserts: a quarter of that). */
  readonly perRound: number
  /** How long clients get to catch up at the end. */
  readonly settleMs?: number
  /** Progress lines, with the time since the start. */
  readonly trace?: (line: string) => void
}

export interface ChaosReport extends Verdict {
  readonly seed: number
  readonly mode: 'log' | 'bus'
  readonly published: number
  readonly faults: number
  readonly byKind: Record<Fault, number>
}

const ADAPTERS = ['node', 'fetch', 'fastify'] as const
const USERS = ['u1', 'u2', 'u3']
const TOPICS = ['t1', 't2', 't3']
const TYPES = ['a', 'b', 'db']
const ROOT = join(import.meta.dirname, '..', '..')

/**
 * The hub script bundled once (the packages' sources included, dependencies left
 * outside), so that each of the run's hub starts is a plain `node` start: about a third
 * of the CPU of loading every source through tsx.
 */
let bundled: Promise<string> | undefined
function hubScript(): Promise<string> {
  bundled ??= (async () => {
    const outfile = join(ROOT, 'node_modules', '.cache', 'rt-chaos', `node-${process.pid}.mjs`)
    await build({
      entryPoints: [join(import.meta.dirname, 'node.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['@rt/source'],
      external: ['mongodb', 'fastify', '@hono/node-server', 'redis'],
      outfile,
      logLevel: 'warning',
    })
    return outfile
  })()
  return bundled
}

/** A small seeded generator (mulberry32). */
export function prng(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Hub {
  readonly config: ChaosNodeConfig
  readonly forwarder: Forwarder
  proc?: ChildProcess | undefined
  control?: string | undefined
}

async function startHub(hub: Hub): Promise<void> {
  const proc = spawn(process.execPath, [await hubScript(), JSON.stringify(hub.config)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let err = ''
  proc.stderr?.on('data', (chunk: Buffer) => {
    err = (err + chunk.toString()).slice(-4_000)
  })
  const line = await new Promise<string>((resolve, reject) => {
    let out = ''
    const onData = (chunk: Buffer) => {
      out += chunk.toString()
      const match = out.match(/READY (\S+) (\S+)/)
      if (match) {
        proc.stdout?.off('data', onData)
        proc.stdout?.resume()
        resolve(match[0])
      }
    }
    proc.stdout?.on('data', onData)
    proc.once('exit', (code) => reject(new Error(`hub (${hub.config.adapter}) exited with ${code}:\n${err}`)))
  })
  const [, events, control] = line.split(' ') as [string, string, string]
  hub.proc = proc
  hub.control = control
  hub.forwarder.upstream = Number(new URL(events).port)
}

async function killHub(hub: Hub): Promise<void> {
  const proc = hub.proc
  hub.proc = undefined
  hub.control = undefined
  hub.forwarder.upstream = undefined
  if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return
  const exited = new Promise((resolve) => proc.once('exit', resolve))
  proc.kill('SIGKILL')
  await exited
}

/** One client's record, kept across the client instances a transport switch replaces. */
interface Follower {
  readonly name: string
  readonly audience: Audience
  readonly urls: string[]
  readonly seen: Seen[]
  transport: Transport | 'auto'
  client: Client
}

/**
 * RT_CHAOS_LOG=<dir>: each run writes <dir>/<seed>/: the hubs' diaries (what their log told
 * them), and run.json (what was published when, the faults, what each client received).
 */
const diaries = process.env.RT_CHAOS_LOG

/** Publishes and inserts begun so far (see `Seen`). */
let begun = 0

function follow(f: Omit<Follower, 'client'> & { client?: Client }, lastEventId?: string): Client {
  const client = createClient({
    url: f.urls,
    topics: f.audience.topics,
    types: f.audience.types,
    transport: f.transport,
    lastEventId,
    headers: { 'x-user': f.audience.user },
    minRetryMs: 20,
    retryMs: 100,
    maxRetryMs: 1_000,
    connectTimeoutMs: 2_000,
    pollTimeoutMs: 1_000,
  })
  for (const type of TYPES) {
    client.on(type, (data, meta) => {
      const { src, n } = data as { src: 'app' | 'db'; n: number }
      f.seen.push(diaries ? { src, n, id: meta.id, t: Date.now() } : { src, n })
    })
  }
  client.on('reset', (info) =>
    f.seen.push(
      diaries
        ? { reset: info.reason, at: begun, id: client.lastEventId, t: Date.now() }
        : { reset: info.reason, at: begun },
    ),
  )
  return client
}

export async function runChaos(plan: ChaosPlan): Promise<ChaosReport> {
  const random = prng(plan.seed)
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T
  const subset = <T>(list: readonly T[]): T[] => {
    const out = list.filter(() => random() < 0.5)
    return out.length > 0 ? out : [pick(list)]
  }
  const cleanup: (() => Promise<unknown> | unknown)[] = []
  const byKind = Object.fromEntries(FAULTS.map((kind) => [kind, 0])) as Record<Fault, number>
  const accepted: Sent[] = []
  const maybe: Sent[] = []
  const followers: Follower[] = []
  const started = Date.now()
  const steps: string[] = []
  const trace = (line: string) => {
    steps.push(`${Date.now()} ${line}`)
    plan.trace?.(`${((Date.now() - started) / 1_000).toFixed(1)} s: ${line}`)
  }
  const diary = diaries === undefined ? undefined : join(diaries, String(plan.seed))
  if (diary !== undefined) await mkdir(diary, { recursive: true })
  try {
    const redis: OwnRedis = await startRedis()
    cleanup.push(() => redis.stop())
    const sim: MongoSim = await startMongoSim()
    cleanup.push(() => sim.close())
    const mongo = new MongoClient(sim.uri, { heartbeatFrequencyMS: 500, serverSelectionTimeoutMS: 3_000 })
    await mongo.connect()
    cleanup.push(() => mongo.close(true))
    const items = mongo.db('chaos').collection<Item>('items')
    const name = `rt-chaos:${plan.seed}`
    const hubs: Hub[] = []
    for (const adapter of ADAPTERS) {
      const forwarder = await startForwarder()
      cleanup.push(() => forwarder.close())
      const mongoFeed = adapter === 'node' ? { mongo: { uri: sim.uri, db: 'chaos' } } : {}
      const config = { adapter, redisUrl: redis.url, mode: plan.mode, name, parent: process.pid, diary, ...mongoFeed }
      hubs.push({ config, forwarder })
    }
    cleanup.push(() => Promise.all(hubs.map(killHub)))
    await Promise.all(hubs.map(startHub))
    trace('hubs up')

    for (let i = 0; i < plan.clients; i++) {
      const urls = hubs.map((hub) => `${hub.forwarder.origin}/events`)
      const rotated = [...urls.slice(i % urls.length), ...urls.slice(0, i % urls.length)]
      const audience: Audience = {
        user: pick(USERS),
        topics: subset(TOPICS),
        types: pick([undefined, ['a'], ['b', 'db'], ['a', 'db']]),
      }
      const transport = pick<Transport | 'auto'>(['sse', 'poll', 'auto'])
      const record = { name: `client ${i}`, audience, urls: rotated, seen: [], transport }
      const follower = { ...record, client: follow(record) } as Follower
      followers.push(follower)
    }
    cleanup.push(() => {
      for (const f of followers) f.client.close()
    })
    await waitFor(() => followers.every((f) => f.client.state === 'open'), 20_000, 'every client open')
    trace('clients open')

    let app = 0
    let db = 0
    let turn = 0
    const publishApp = async () => {
      const event: Sent = {
        src: 'app',
        n: app++,
        seq: begun++,
        type: pick(['a', 'b']),
        topic: pick(TOPICS),
        to: random() < 0.4 ? subset(USERS) : undefined,
      }
      const live = hubs.filter((hub) => hub.control !== undefined)
      const hub = live[turn++ % Math.max(live.length, 1)]
      try {
        if (hub?.control === undefined) throw new Error('no hub up')
        const res = await fetch(`${hub.control}/publish`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            type: event.type,
            topic: event.topic,
            to: event.to,
            data: { src: 'app', n: event.n },
          }),
        })
        await res.body?.cancel()
        ;(res.status === 200 ? accepted : maybe).push(
          diaries ? { ...event, t: Date.now(), via: hub.config.adapter } : event,
        )
      } catch {
        maybe.push(diaries ? { ...event, t: Date.now() } : event)
      }
    }
    const insertDb = async () => {
      const event: Sent = {
        src: 'db',
        n: db++,
        seq: begun++,
        type: 'db',
        topic: pick(TOPICS),
        to: random() < 0.3 ? subset(USERS) : undefined,
      }
      await items.insertOne(
        event.to
          ? { n: event.n, type: 'db', topic: event.topic, to: [...event.to] }
          : { n: event.n, type: 'db', topic: event.topic },
      )
      accepted.push(diaries ? { ...event, t: Date.now() } : event)
    }
    const round = async (count: number) => {
      for (let k = 0; k < count; k++) {
        await publishApp()
        if (k % 4 === 0) await insertDb()
      }
    }

    // Every kind of fault at least once (in an order the seed picks), then any.
    const schedule: Fault[] = [...FAULTS].sort(() => random() - 0.5)
    while (schedule.length < plan.rounds) schedule.push(pick(FAULTS))
    let down: Hub | undefined
    for (const fault of schedule) {
      await round(plan.perRound)
      if (down !== undefined) {
        await startHub(down)
        down = undefined
      }
      byKind[fault]++
      trace(fault)
      if (fault === 'kill-hub') {
        down = pick(hubs)
        await killHub(down)
      } else if (fault === 'redis') {
        await redis.kill()
        await round(2)
        await redis.start()
      } else if (fault === 'mongo') {
        const faults: MongoSimFault[] = [
          {
            on: 'getMore',
            error: { code: 91, codeName: 'ShutdownInProgress', labels: ['ResumableChangeStreamError'] },
          },
          { on: 'getMore', drop: true },
          { on: 'getMore', delayMs: 300 },
          { on: 'getMore', cursorId0: true },
        ]
        sim.fault(pick(faults))
      } else if (fault === 'cut') {
        pick(hubs).forwarder.cut()
      } else {
        const f = pick(followers)
        const lastEventId = f.client.lastEventId
        f.client.close()
        f.transport = f.transport === 'poll' ? 'sse' : 'poll'
        f.client = follow(f, lastEventId)
      }
      await sleep(Math.floor(random() * 200))
    }
    if (down !== undefined) await startHub(down)
    await round(plan.perRound)

    // Everyone catches up with the last event owed to them from each source (or was told
    // to refetch after it was published).
    const caughtUp = (f: Follower) =>
      (['app', 'db'] as const).every((src) => {
        const owed = accepted.filter((e) => e.src === src && maySee(f.audience, e)).at(-1)
        return owed === undefined || f.seen.some((s) => ('n' in s ? s.src === src && s.n === owed.n : s.at > owed.seq))
      })
    trace('last round published')
    // A client that does not catch up shows as lost events below.
    await waitFor(() => followers.every(caughtUp), plan.settleMs ?? 20_000, 'every client caught up').catch(() => {
      for (const f of followers.filter((f) => !caughtUp(f))) {
        trace(`${f.name} (${f.transport}, ${f.client.state}) behind: ${JSON.stringify(f.seen.slice(-3))}`)
      }
    })
    trace('caught up')

    const verdict = emptyVerdict()
    for (const f of followers) judge(f.name, f.audience, f.seen, accepted, maybe, verdict)
    if (diary !== undefined) {
      const clients = followers.map(({ name, audience, transport, seen }) => ({ name, audience, transport, seen }))
      const record = { plan: { ...plan, trace: undefined }, verdict, steps, accepted, maybe, clients }
      await writeFile(join(diary, 'run.json'), JSON.stringify(record, null, 1))
    }
    const faults = Object.values(byKind).reduce((a, b) => a + b, 0)
    return { ...verdict, seed: plan.seed, mode: plan.mode, published: app + db, faults, byKind }
  } finally {
    for (const step of cleanup.reverse()) await Promise.resolve(step()).catch(() => {})
  }
}

async function waitFor(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`chaos: not ${what} after ${ms} ms`)
    await sleep(20)
  }
}

/** The line a run prints. */
export function summary(report: ChaosReport): string {
  const kinds = FAULTS.map((kind) => `${kind} ${report.byKind[kind]}`).join(', ')
  return (
    `chaos seed=${report.seed} mode=${report.mode}: events ${report.events} / faults ${report.faults} (${kinds}) / ` +
    `resets ${report.resets} / lost=${report.lost} / duplicated=${report.duplicated} / leaked=${report.leaked}`
  )
}
