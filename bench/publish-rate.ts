/**
 * The maximum publish rate through Redis, in one process with no subscribers connected:
 * rt's `hub.publish` on `redisLog` and `redisBus` against a raw pipeline of `XADD` and of
 * `PUBLISH` (the ceiling: the same commands with nothing else), and on the in-memory log.
 * Prints JSON: publishes per second for each, CPU µs per publish in this process, and Redis's
 * CPU µs per publish (other clients of the same Redis included).
 */
import { createHub, type Log, memoryLog } from '@rt/server'
import { redisBus, redisLog } from '@rt/server/redis'
import { createClient } from 'redis'
import { dropRedisKeys, REDIS_URL } from './servers/redis-keys.js'

const count = Number(process.argv[2] ?? 20_000)
/** Publishes in flight at once, as a busy app with many concurrent requests has. */
const WINDOW = 256
const data = { s: 0, t: 0, p: 'x'.repeat(64) }
const payload = JSON.stringify(data)

/** Redis's own CPU time so far, µs (`INFO cpu`): what a publish costs Redis, whatever else runs. */
async function redisCpuUs(): Promise<number> {
  const text = (await client.sendCommand(['INFO', 'cpu'])) as string
  const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)?.[1] ?? 0)
  return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1e6
}

async function timed(run: (i: number) => Promise<unknown>) {
  const inFlight = new Set<Promise<unknown>>()
  const redisBefore = await redisCpuUs()
  const cpu = process.cpuUsage()
  const started = performance.now()
  for (let i = 0; i < count; i++) {
    const p = run(i)
    inFlight.add(p)
    void p.finally(() => inFlight.delete(p))
    if (inFlight.size >= WINDOW) await Promise.race(inFlight)
  }
  await Promise.all(inFlight)
  const seconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  const redisUs = (await redisCpuUs()) - redisBefore
  return {
    perSecond: count / seconds,
    cpuUsPerPublish: (used.user + used.system) / count,
    redisCpuUsPerPublish: redisUs / count,
  }
}

async function viaHub(log: Log) {
  const hub = createHub({ log })
  try {
    return await timed(() => hub.publish({ type: 'tick', topic: 'all', data }))
  } finally {
    await hub.close()
  }
}

const prefix = `rt-bench:${Math.random().toString(36).slice(2, 10)}`
const client = createClient({ url: REDIS_URL })
await client.connect()
const results: Record<string, { perSecond: number; cpuUsPerPublish: number; redisCpuUsPerPublish: number }> = {}
try {
  results.rawXadd = await timed(() =>
    client.sendCommand(['XADD', `${prefix}:raw`, 'MAXLEN', '~', '200000', '*', 't', 'tick', 'p', 'all', 'd', payload]),
  )
  results.rawPublish = await timed(() => client.sendCommand(['PUBLISH', `${prefix}:raw`, payload]))
  results.redisLog = await viaHub(await redisLog({ url: REDIS_URL, stream: `${prefix}:log` }, { maxPending: 100_000 }))
  results.redisBus = await viaHub(await redisBus({ url: REDIS_URL }, { channel: `${prefix}:bus`, maxPending: 100_000 }))
  results.memory = await viaHub(memoryLog({ capacity: count }))
} finally {
  client.destroy()
  await dropRedisKeys(prefix)
}
process.stdout.write(`${JSON.stringify({ count, window: WINDOW, results })}\n`)
