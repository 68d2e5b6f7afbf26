/**
 * `npm run soak [-- --minutes=10] [--clients=2000] [--sample=5]`
 *
 * 2,000 @rt/client instances (one in ten on long-poll) against one hub process for N
 * minutes, with churn (1% of the clients replaced every second, half of them resuming
 * from their last id), publishes (20 a second over 50 topics) and resumes. The hub's RSS
 * and live heap (after a forced GC) and the clients' process are sampled; numbers and
 * plots go to docs/soak.md and docs/soak/*.svg.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { type Client, createClient } from '@rt/client'
import { ask, spawnTs } from './lib/ipc.js'
import { lineChart } from './soak/chart.js'

const flags = new Map(
  process.argv
    .slice(2)
    .filter((a) => a.startsWith('--'))
    .map((a) => {
      const [key, value = 'true'] = a.slice(2).split('=')
      return [key as string, value] as const
    }),
)
const minutes = Number(flags.get('minutes') ?? 10)
const clients = Number(flags.get('clients') ?? 2_000)
const sampleS = Number(flags.get('sample') ?? 5)
const TOPICS = 50
/** Small enough that the log is full within the warm-up. */
const LOG_CAPACITY = 2_000
const PUBLISH_PER_S = 20
const CHURN_PER_S = Math.max(1, Math.round(clients / 100))
const docs = join(import.meta.dirname, '..', 'docs')

interface Sample {
  readonly t: number
  readonly hubRss: number
  readonly hubHeap: number
  readonly clientRss: number
  readonly clientHeap: number
  readonly connections: number
  readonly open: number
  readonly received: number
  readonly delivered: number
  /** The machine's 1-minute load average. */
  readonly load: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const MB = 1024 * 1024

const hub = spawnTs('soak/hub.ts', [String(LOG_CAPACITY)], ['--expose-gc'])
const { origin } = await ask<{ origin: string }>(hub, { cmd: 'listen' }, 'origin')
const url = `${origin}/events`

let received = 0
let resets = 0
let resumes = 0
let created = 0
let errors = 0
const live: Client[] = []

function open(lastEventId?: string): Client {
  const i = created++
  const client = createClient({
    url,
    topics: [`t${i % TOPICS}`],
    transport: i % 10 === 0 ? 'poll' : 'sse',
    lastEventId,
    pollTimeoutMs: 10_000,
    onError: () => errors++,
  })
  client.on('tick', () => received++)
  client.on('reset', () => resets++)
  return client
}

console.info(`soak: ${clients} clients, ${minutes} min, hub at ${origin}`)
for (let i = 0; i < clients; i++) {
  live.push(open())
  if (i % 100 === 99) await sleep(50)
}

const samples: Sample[] = []
const started = Date.now()
const end = started + minutes * 60_000
let nextSample = started
let random = 12_345
const next = () => {
  random = (random * 1_103_515_245 + 12_345) % 2 ** 31
  return random / 2 ** 31
}

// Publishes and churn follow the clock, not the loop: a slow turn on a busy machine is
// made up for by the next one.
let published = 0
let churned = 0
while (Date.now() < end) {
  const tick = Date.now()
  const due = (tick - started) / 1_000
  const count = Math.min(Math.floor(due * PUBLISH_PER_S) - published, 10 * PUBLISH_PER_S)
  if (count > 0) {
    await ask(hub, { cmd: 'publish', count, topics: TOPICS }, 'published')
    published += count
  }
  const replace = Math.min(Math.floor(due * CHURN_PER_S) - churned, 10 * CHURN_PER_S)
  churned += Math.max(0, replace)
  for (let k = 0; k < replace; k++) {
    const at = Math.floor(next() * live.length)
    const old = live[at] as Client
    const lastEventId = k % 2 === 0 ? old.lastEventId : undefined
    old.close()
    if (lastEventId !== undefined) resumes++
    live[at] = open(lastEventId)
  }
  if (tick >= nextSample) {
    nextSample += sampleS * 1_000
    ;(globalThis as { gc?: () => void }).gc?.()
    const hubSample = await ask<Record<string, number>>(hub, { cmd: 'sample' }, 'sampled')
    const memory = process.memoryUsage()
    const sample: Sample = {
      t: (Date.now() - started) / 1_000,
      hubRss: (hubSample.rss as number) / MB,
      hubHeap: (hubSample.heapUsed as number) / MB,
      clientRss: memory.rss / MB,
      clientHeap: memory.heapUsed / MB,
      connections: hubSample.connections as number,
      open: live.filter((c) => c.state === 'open').length,
      received,
      delivered: hubSample.delivered as number,
      load: loadavg()[0] as number,
    }
    samples.push(sample)
    console.info(
      `${sample.t.toFixed(0)} s: hub rss ${sample.hubRss.toFixed(1)} MB heap ${sample.hubHeap.toFixed(1)} MB, ` +
        `${sample.connections} connections, ${sample.open} open, ${received} received, ${resumes} resumes`,
    )
  }
  await sleep(Math.max(0, 1_000 - (Date.now() - tick)))
}

for (const client of live) client.close()
hub.kill('SIGTERM')
report()

/** Least-squares slope of `y` over `t`, per minute. */
function slope(points: Sample[], y: (s: Sample) => number): number {
  const n = points.length
  const mt = points.reduce((a, s) => a + s.t, 0) / n
  const my = points.reduce((a, s) => a + y(s), 0) / n
  const num = points.reduce((a, s) => a + (s.t - mt) * (y(s) - my), 0)
  const den = points.reduce((a, s) => a + (s.t - mt) ** 2, 0)
  return den === 0 ? 0 : (num / den) * 60
}

function report(): void {
  // Warm-up: the log fills to its capacity and the clients' id memories grow.
  const warm = samples.filter((s) => s.t >= Math.min(120, (minutes * 60) / 3))
  const mean = (list: Sample[], y: (s: Sample) => number) => list.reduce((a, s) => a + y(s), 0) / list.length
  const half = Math.floor(warm.length / 2)
  const row = (label: string, y: (s: Sample) => number) =>
    `| ${label} | ${mean(warm.slice(0, half), y).toFixed(1)} | ${mean(warm.slice(half), y).toFixed(1)} | ` +
    `${Math.max(...warm.map(y)).toFixed(1)} | ${slope(warm, y).toFixed(2)} |`
  const last = samples.at(-1) as Sample
  const elapsed = (last.t / 60).toFixed(1)
  mkdirSync(join(docs, 'soak'), { recursive: true })
  writeFileSync(join(docs, 'soak', 'samples.json'), `${JSON.stringify({ clients, minutes, samples }, null, 1)}\n`)
  writeFileSync(
    join(docs, 'soak', 'hub-memory.svg'),
    lineChart(
      'Hub process memory (MB)',
      samples.map((s) => s.t / 60),
      [
        { name: 'RSS', values: samples.map((s) => s.hubRss) },
        { name: 'live heap (after GC)', values: samples.map((s) => s.hubHeap) },
      ],
    ),
  )
  writeFileSync(
    join(docs, 'soak', 'clients-memory.svg'),
    lineChart(
      `Process of the ${clients} clients (MB)`,
      samples.map((s) => s.t / 60),
      [
        { name: 'RSS', values: samples.map((s) => s.clientRss) },
        { name: 'live heap (after GC)', values: samples.map((s) => s.clientHeap) },
      ],
    ),
  )
  const seconds = last.t
  const md = `# Soak run

\`npm run soak\` (\`bench/soak.ts\`): ${clients} \`@rt/client\` instances (one in ten on long-poll)
against one hub process (node adapter, \`memoryLog({ capacity: ${LOG_CAPACITY} })\`, 5 s heartbeats),
with churn: ${CHURN_PER_S} clients closed and replaced every second, half of them resuming from
their last id; ${PUBLISH_PER_S} events a second (about 300 bytes each) over ${TOPICS} topics.
Measured over the run: ${(churned / seconds).toFixed(1)} replacements and ${(published / seconds).toFixed(1)} publishes a second.
Every ${sampleS} s the hub process is sampled after a forced GC (RSS and live heap), and so
is the clients' process (raw numbers: [soak/samples.json](soak/samples.json)).

This run: **${elapsed} minutes** (${samples.length} samples) on ${process.platform}, Node ${process.version},
${cpus().length} cores, 1-minute load average ${Math.min(...samples.map((s) => s.load)).toFixed(0)} to ${Math.max(...samples.map((s) => s.load)).toFixed(0)} during the run.
The default is 10 minutes (\`--minutes=10\`).

![Hub process memory](soak/hub-memory.svg)

![Clients' process memory](soak/clients-memory.svg)

After warm-up (from ${warm[0]?.t.toFixed(0)} s), in MB:

| series | mean, first half | mean, second half | max | slope (MB/min) |
|---|---|---|---|---|
${row('hub RSS', (s) => s.hubRss)}
${row('hub live heap', (s) => s.hubHeap)}
${row('clients RSS', (s) => s.clientRss)}
${row('clients live heap', (s) => s.clientHeap)}

Totals: ${created} clients created (${created - clients} by churn), ${resumes} resumes from a
last id, ${received} events received, ${last.delivered} deliveries counted by the hub,
${resets} resets, ${errors} client errors reported. Connections at the end: ${last.connections}
(hub), ${last.open} clients open.

Reading it: the hub holds its log (full after the warm-up, ${LOG_CAPACITY} events), and per
connection its writer and indexes; closed connections must leave nothing behind, which is
what a flat live heap under churn shows. The hub counts open streams plus long-poll requests
waiting, so long-poll clients between two requests are not in its count. The clients'
process also holds, per client, the ids of recent events (up to 1,000, to drop a repeat
across a reconnect): that memory grows with every event received until it is full, by design.
`
  writeFileSync(join(docs, 'soak.md'), md)
  console.info(md)
}
