/**
 * One hub node of the chaos run, as its own process (so it can be SIGKILLed):
 *
 *   node --import tsx --conditions=@rt/source e2e/chaos/node.ts '<json ChaosNodeConfig>'
 *
 * Serves the stream at /events through the adapter named in the config, on a log shared
 * through Redis; identity from the `x-user` header or `?user=`. A second listener takes
 * POST /publish (a JSON PublishInput; answers { id } or the error with its status). With
 * `mongo` set, the node also feeds the log from a MongoDB change stream on `items`. Prints
 * `READY <events origin> <control origin>` once both listen.
 */
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHub, isRtError, type Log } from '@rt/server'
import { redisBus, redisLog } from '@rt/server/redis'
import type { MongoClient } from 'mongodb'

// Each node imports only what its adapter and feed need: starts stay cheap.

export interface ChaosNodeConfig {
  readonly adapter: 'node' | 'fetch' | 'fastify'
  readonly redisUrl: string
  readonly mode: 'log' | 'bus'
  /** Stream or channel name, shared by the nodes of one run. */
  readonly name: string
  /** Feed the log from this database's `items` change stream. */
  readonly mongo?: { readonly uri: string; readonly db: string }
  /** A folder for this node's diary (RT_CHAOS_LOG). */
  readonly diary?: string
  /** The run's process: when it is gone (a timed-out test), this node exits too. */
  readonly parent?: number
}

/** A document of `items`: what it becomes on the stream. */
export interface Item {
  readonly n: number
  readonly type: string
  readonly topic: string
  readonly to?: string[]
}

const config = JSON.parse(process.argv[2] ?? '{}') as ChaosNodeConfig
if (config.parent !== undefined) {
  const parent = config.parent
  setInterval(() => {
    try {
      process.kill(parent, 0)
    } catch {
      process.exit(1)
    }
  }, 1_000).unref()
}
const target = { url: config.redisUrl }
// Publishes give up quickly while Redis is down, so the run sees failures, not a hang.
const bounds = { maxPending: 200, publishTimeoutMs: 800 }
const log: Log =
  config.mode === 'bus'
    ? await redisBus(target, { channel: config.name, capacity: 5_000, ...bounds })
    : await redisLog({ ...target, stream: config.name }, { cache: 5_000, ...bounds })

/** With `diary` set, each node appends what its log told it (entries, gaps) to <diary>/<adapter>.log. */
const diary = config.diary
  ? (await import('node:fs')).createWriteStream(`${config.diary}/${config.adapter}.log`, { flags: 'a' })
  : undefined
const note = (line: string) => diary?.write(`${Date.now()} ${line}\n`)
note(`start ${process.pid}`)
if (diary) {
  const label = (data: unknown) => {
    const { src, n } = (data ?? {}) as { src?: string; n?: number }
    return `${src}:${n}`
  }
  log.subscribe(
    (entry) => note(`entry ${entry.id} ${entry.type} ${label(entry.data)}`),
    (gap) => note(`gap ${gap.id} ${gap.reason}`),
  )
}

const hub = createHub<Record<string, unknown>, { userId: string }>({
  log,
  heartbeatMs: 1_000,
  retryMs: 100,
  maxConnections: 10_000,
  onError: (error) => note(`error ${String(error)}`),
  authenticate: (req) => {
    const userId = req.headers.get('x-user') ?? req.url.searchParams.get('user')
    return userId === null ? null : { userId }
  },
})

let mongo: MongoClient | undefined
if (config.mongo) {
  const { MongoClient } = await import('mongodb')
  const { mongoChangeStream, mongoTokenStore } = await import('@rt/server/mongo')
  mongo = new MongoClient(config.mongo.uri, { heartbeatFrequencyMS: 500, serverSelectionTimeoutMS: 3_000 })
  await mongo.connect()
  const db = mongo.db(config.mongo.db)
  await hub.attach(
    mongoChangeStream({
      collection: db.collection<Item>('items'),
      tokens: mongoTokenStore(db),
      map: (change) => {
        if (change.operationType !== 'insert') return null
        const { n, type, topic, to } = change.fullDocument
        return { type, topic, to, data: { src: 'db', n } }
      },
      maxAwaitTimeMS: 200,
      backoff: { initialMs: 50, maxMs: 500 },
    }),
  )
}

async function listen(server: Server): Promise<string> {
  if (!server.listening) {
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
  }
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

let events: Server
if (config.adapter === 'node') {
  const { toNodeHandler } = await import('@rt/server/node')
  const handler = toNodeHandler(hub)
  events = createServer((req, res) => void handler(req, res))
} else if (config.adapter === 'fetch') {
  const [{ serve }, { toFetchHandler }] = await Promise.all([import('@hono/node-server'), import('@rt/server/fetch')])
  events = serve({ fetch: toFetchHandler(hub), port: 0, hostname: '127.0.0.1' }) as Server
  await once(events, 'listening')
} else {
  const [{ default: Fastify }, { fastifyRealtime }] = await Promise.all([
    import('fastify'),
    import('@rt/server/fastify'),
  ])
  const app = Fastify()
  await app.register(fastifyRealtime, { hub, path: '/events' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  events = app.server
}

const control = createServer(async (req, res) => {
  const reply = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }
  try {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const input = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    const id = await hub.publish(input)
    note(`published ${id} app:${input.data?.n}`)
    reply(200, { id })
  } catch (error) {
    if (isRtError(error)) reply(error.status, { error: { code: error.code, message: error.message } })
    else reply(500, { error: { code: 'internal', message: String(error) } })
  }
})

process.stdout.write(`READY ${await listen(events)} ${await listen(control)}\n`)

process.on('SIGTERM', async () => {
  events.closeAllConnections()
  control.close()
  await hub.close()
  await mongo?.close(true)
  process.exit(0)
})
