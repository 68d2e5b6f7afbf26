/**
 * `npm run bench [-- --quick] [--servers=rt,raw] [--conns=1000,2000] [--runs=3] [--report-only]
 *   [--group=name] [--workloads=peers,private,durable,idle] [--logs=reconnect,memory,redis,mongo-sim] [--idle=50000]`
 *
 * Each server and each load generator runs in its own process on loopback. Results: raw
 * JSON in bench/results/, tables and charts in docs/benchmarks.md.
 */
import { type ChildProcess, execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { type IdleResult, idleScale } from './idle-scale.js'
import { ask, next, spawnTs } from './lib/ipc.js'
import { writeReport } from './lib/report.js'
import { median } from './lib/stats.js'
import { exited, type PrivateStormResult, privateStorm } from './private-storm.js'
import type { PrivateLogKind } from './servers/rt-private.js'

type ServerName = 'rt' | 'rt-redislog' | 'rt-redisbus' | 'raw' | 'raw-coalesced' | 'better-sse' | 'socketio' | 'durable'
const ALL: ServerName[] = [
  'rt',
  'rt-redislog',
  'rt-redisbus',
  'raw',
  'raw-coalesced',
  'better-sse',
  'socketio',
  'durable',
]
const RESUMES: ServerName[] = ['rt', 'rt-redislog']
type Workload = 'peers' | 'private' | 'durable' | 'idle'

const flags = new Map(
  process.argv
    .slice(2)
    .filter((a) => a.startsWith('--'))
    .map((a) => {
      const [key, value = 'true'] = a.slice(2).split('=')
      return [key as string, value] as const
    }),
)
const quick = flags.has('quick')
const servers = (flags.get('servers')?.split(',') as ServerName[] | undefined) ?? ALL
const connCounts = flags.get('conns')?.split(',').map(Number) ?? (quick ? [1000] : [1000, 2000, 5000])
const runs = Number(flags.get('runs') ?? (quick ? 1 : 3))
const workloads = new Set(
  (flags.get('workloads')?.split(',') as Workload[] | undefined) ?? ['peers', 'private', 'durable', 'idle'],
)
/** Private storm sizes: clients and events per log. */
const storms: [PrivateLogKind | 'reconnect', number, number][] = quick
  ? [
      ['reconnect', 1_000, 0],
      ['memory', 1_000, 20_000],
      ['redis', 1_000, 20_000],
      ['mongo-sim', 1_000, 20_000],
    ]
  : [
      ['reconnect', 5_000, 0],
      ['memory', 5_000, 100_000],
      ['redis', 5_000, 100_000],
      ['mongo-sim', 5_000, 100_000],
    ]
const idleConnections = Number(flags.get('idle') ?? (quick ? 5_000 : 50_000))
const phase = {
  rateSeconds: quick ? 2 : 5,
  burstEvents: quick ? 100 : 300,
  targetedEvents: quick ? 300 : 1000,
  payloadBytes: 64,
}

export interface Result {
  server: ServerName
  conns: number
  run: number
  rssPerConnKB: number
  heapPerConnKB: number
  rate: { p50: number; p95: number; p99: number; cpuUsPerDelivery: number; lost: number; duplicates: number }
  max: { deliveredPerSec: number; cpuUsPerDelivery: number; lost: number; duplicates: number }
  targeted?: { cpuUsPerEvent: number; cpuUsPerDelivery: number; fixed20UsPerEvent: number }
  storm?: { resumedMs: number; lost: number; duplicates: number }
  /** Runs made apart from the main set (`--group=name`), reported in a section of their own. */
  group?: string
}

type Usage = { cpu: NodeJS.CpuUsage; rss: number; heap: number }
const cpuSince = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage) => b.user - a.user + (b.system - a.system)

async function measure(server: ServerName, conns: number, run: number): Promise<Result> {
  const children: ChildProcess[] = []
  try {
    // BENCH_CPU_PROF=dir: profile each server process (node --cpu-prof) into dir.
    const profile = process.env.BENCH_CPU_PROF
    const srv = spawnTs(
      `servers/${server}.ts`,
      [],
      ['--expose-gc', ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [])],
    )
    children.push(srv)
    const { port, path } = await next<{ port: number; path: string }>(srv, 'ready')
    const origin = `http://127.0.0.1:${port}`
    const load = spawnTs('load/clients.ts', [origin, path, server === 'socketio' ? 'socketio' : 'sse'])
    children.push(load)
    await next(load, 'ready')

    // Idle memory per connection.
    const before = await ask<{ rss: number; heap: number }>(srv, { cmd: 'gc' }, 'gcDone')
    await ask(load, { cmd: 'connect', count: conns, offset: 0 }, 'connected', 180_000)
    const after = await ask<{ rss: number; heap: number }>(srv, { cmd: 'gc' }, 'gcDone')

    // Fixed rate: 10 broadcasts per second.
    await ask(load, { cmd: 'reset' }, 'resetDone')
    let u0 = await ask<Usage>(srv, { cmd: 'usage' }, 'usage')
    await ask(
      srv,
      { cmd: 'rate', perSecond: 10, durationMs: phase.rateSeconds * 1000, size: phase.payloadBytes },
      'rateDone',
    )
    const rateCount = phase.rateSeconds * 10
    await ask(load, { cmd: 'waitTotal', total: rateCount * conns, timeoutMs: 60_000 }, 'waited', 70_000)
    let u1 = await ask<Usage>(srv, { cmd: 'usage' }, 'usage')
    const rs = await ask<Record<string, number>>(load, { cmd: 'stats' }, 'stats')
    const rate = {
      p50: rs.p50 as number,
      p95: rs.p95 as number,
      p99: rs.p99 as number,
      cpuUsPerDelivery: cpuSince(u0.cpu, u1.cpu) / Math.max(1, rs.events as number),
      lost: rateCount * conns - (rs.events as number),
      duplicates: rs.duplicates as number,
    }

    // Maximum rate: one event per publish, as fast as the server takes them.
    await ask(load, { cmd: 'reset' }, 'resetDone')
    u0 = await ask<Usage>(srv, { cmd: 'usage' }, 'usage')
    const started = performance.now()
    await ask(srv, { cmd: 'burst', count: phase.burstEvents, batch: 1, size: phase.payloadBytes }, 'burstDone')
    const total = phase.burstEvents * conns
    await ask(load, { cmd: 'waitTotal', total, timeoutMs: 120_000 }, 'waited', 130_000)
    const elapsed = (performance.now() - started) / 1000
    u1 = await ask<Usage>(srv, { cmd: 'usage' }, 'usage')
    const ms = await ask<Record<string, number>>(load, { cmd: 'stats' }, 'stats')
    const max = {
      deliveredPerSec: (ms.events as number) / elapsed,
      cpuUsPerDelivery: cpuSince(u0.cpu, u1.cpu) / Math.max(1, ms.events as number),
      lost: total - (ms.events as number) + (ms.gaps as number),
      duplicates: ms.duplicates as number,
    }

    // Reconnect storm: every client drops and resumes with Last-Event-ID while events flow.
    let storm: Result['storm']
    if (RESUMES.includes(server)) {
      await ask(load, { cmd: 'reset' }, 'resetDone')
      const { seq } = await ask<{ seq: number }>(srv, { cmd: 'seq' }, 'seq')
      const flowing = ask<{ last: number }>(
        srv,
        { cmd: 'rate', perSecond: 50, durationMs: 4_000, size: phase.payloadBytes },
        'rateDone',
      )
      // Resumed: every client reconnected and holds everything published before the drop.
      const stormed = await ask<{ ms: number; caughtUp: boolean }>(load, { cmd: 'storm', seq }, 'stormDone', 120_000)
      const { last } = await flowing
      const caught = await ask<{ caughtUp: boolean }>(
        load,
        { cmd: 'waitSeq', seq: last, timeoutMs: 60_000 },
        'caughtUp',
        70_000,
      )
      const ss = await ask<Record<string, number>>(load, { cmd: 'stats' }, 'stats')
      storm = {
        resumedMs: stormed.caughtUp ? stormed.ms : Number.NaN,
        lost: (ss.gaps as number) + (caught.caughtUp ? 0 : 1),
        duplicates: ss.duplicates as number,
      }
    }

    // Targeted: each event to 1% of the users, then to a fixed 20 users, so the cost per
    // event can be compared as idle connections grow.
    let targeted: Result['targeted']
    if (server !== 'durable') {
      const run = async (recipients: number) => {
        await ask(load, { cmd: 'reset', strict: false }, 'resetDone')
        const t0 = await ask<Usage>(srv, { cmd: 'usage' }, 'usage')
        await ask(
          srv,
          { cmd: 'targeted', count: phase.targetedEvents, recipients, users: conns, size: phase.payloadBytes },
          'targetedDone',
        )
        const expected = phase.targetedEvents * recipients
        await ask(load, { cmd: 'waitTotal', total: expected, timeoutMs: 60_000 }, 'waited', 70_000)
        const t1 = await ask<Usage>(srv, { cmd: 'usage' }, 'usage')
        return cpuSince(t0.cpu, t1.cpu)
      }
      const recipients = Math.max(1, Math.round(conns / 100))
      const us = await run(recipients)
      const fixed = await run(20)
      targeted = {
        cpuUsPerEvent: us / phase.targetedEvents,
        cpuUsPerDelivery: us / (phase.targetedEvents * recipients),
        fixed20UsPerEvent: fixed / phase.targetedEvents,
      }
    }

    return {
      server,
      conns,
      run,
      rssPerConnKB: (after.rss - before.rss) / conns / 1024,
      heapPerConnKB: (after.heap - before.heap) / conns / 1024,
      rate,
      max,
      targeted,
      storm,
    }
  } finally {
    const [srv] = children
    if (srv !== undefined && srv.exitCode === null) {
      await ask(srv, { cmd: 'exit' }, 'exiting', 5_000).catch(() => {})
      await exited(srv, server.startsWith('rt-redis') ? 30_000 : 300)
    }
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  }
}

interface Saved {
  machine: Record<string, string | number>
  results: Result[]
  hubTargeted?: unknown
  privateStorms?: PrivateStormResult[]
  publishRates?: unknown[]
  idle?: IdleResult[]
}
const fullFile = new URL('./results/full.json', import.meta.url)
const readSaved = (): Saved | undefined => {
  try {
    return JSON.parse(readFileSync(fullFile, 'utf8')) as Saved
  } catch {
    return undefined
  }
}
// --report-only: rewrite the report from the saved full run (and re-measure the hub alone).
const saved = flags.has('report-only') ? readSaved() : undefined
// A full run of some workloads (or servers) keeps the saved numbers of the others.
const previous = quick ? undefined : (saved ?? readSaved())
const results: Result[] = saved?.results ?? []
for (const conns of saved === undefined && workloads.has('peers') ? connCounts : []) {
  for (const server of servers) {
    for (let run = 1; run <= runs; run++) {
      process.stdout.write(`${server} × ${conns} connections, run ${run}/${runs} … `)
      try {
        const result = await measure(server, conns, run)
        if (flags.has('group')) result.group = flags.get('group')
        results.push(result)
        console.log(
          `rate p99 ${result.rate.p99.toFixed(1)} ms, max ${Math.round(result.max.deliveredPerSec)}/s at ${result.max.cpuUsPerDelivery.toFixed(2)} µs, ${result.rssPerConnKB.toFixed(1)} KB/conn`,
        )
      } catch (error) {
        console.log(`failed: ${String(error)}`)
      }
    }
  }
}

if (saved === undefined && previous !== undefined) {
  const key = (r: Result) => `${r.server}|${r.conns}|${r.group ?? ''}`
  const measured = new Set(results.map(key))
  results.unshift(...previous.results.filter((r) => !measured.has(key(r))))
}
const savedExtra = saved
const privateStorms: PrivateStormResult[] = savedExtra?.privateStorms ?? []
if (saved === undefined && workloads.has('private')) {
  const only = flags.get('logs')?.split(',')
  for (const [log, clients, events] of storms.filter(([log]) => only === undefined || only.includes(log))) {
    for (let run = 1; run <= runs; run++) {
      process.stdout.write(`private storm, ${log}, ${clients} clients, ${events} events, run ${run}/${runs} … `)
      try {
        const result = await privateStorm(log === 'reconnect' ? 'memory' : log, clients, events, run, 60_000)
        privateStorms.push({ ...result, log })
        console.log(
          `caught up in ${result.caughtUpMs.toFixed(0)} ms (connected ${result.connectedMs.toFixed(0)} ms), read ${result.entriesRead} entries for ${result.entriesMissed} missed${result.logCommands === undefined ? '' : ` in ${result.logCommands} MongoDB commands`}, lost ${result.lost}, dup ${result.duplicates}`,
        )
      } catch (error) {
        console.log(`failed: ${String(error)}`)
      }
    }
  }
}

// Publish rate through Redis against a raw XADD / PUBLISH pipeline.
const publishRates: unknown[] = savedExtra?.publishRates ?? []
if (saved === undefined && workloads.has('durable')) {
  for (let run = 1; run <= runs; run++) {
    console.log(`publish rate through Redis, run ${run}/${runs} …`)
    publishRates.push(
      JSON.parse(
        execFileSync(
          process.execPath,
          ['--import', 'tsx', '--conditions=@rt/source', 'bench/publish-rate.ts', quick ? '5000' : '20000'],
          { encoding: 'utf8' },
        ),
      ),
    )
  }
}

// Idle scale: one heavy run.
const idle: IdleResult[] = savedExtra?.idle ?? []
if (saved === undefined && workloads.has('idle')) {
  process.stdout.write(`idle scale, ${idleConnections} connections … `)
  try {
    const result = await idleScale(idleConnections)
    idle.push(result)
    console.log(
      `${result.connections} open, ${result.rssPerConnKB.toFixed(1)} KB RSS/conn, ${result.cpuMsPerBeat.toFixed(0)} ms CPU per heartbeat`,
    )
  } catch (error) {
    console.log(`failed: ${String(error)}`)
  }
}

// The hub's own cost of a targeted event as idle connections grow (no sockets involved).
let hubTargeted: unknown
if ((!quick || flags.has('report') || saved !== undefined) && workloads.has('peers')) {
  console.log('hub-only targeted cost, 1k to 20k idle connections …')
  hubTargeted = JSON.parse(
    execFileSync(process.execPath, ['--import', 'tsx', '--conditions=@rt/source', 'bench/hub-targeted.ts'], {
      encoding: 'utf8',
    }),
  )
}

hubTargeted ??= previous?.hubTargeted
if (saved === undefined && previous !== undefined) {
  // Storms of logs not run this time (all, or those outside --logs) keep their saved numbers.
  const ran = new Set(privateStorms.map((r) => r.log))
  privateStorms.unshift(...(previous.privateStorms ?? []).filter((r) => !ran.has(r.log)))
  if (!workloads.has('durable')) publishRates.push(...(previous.publishRates ?? []))
  if (!workloads.has('idle')) idle.push(...(previous.idle ?? []))
}
const machine = saved?.machine ?? {
  cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}`,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  platform: `${os.type()} ${os.release()}`,
  date: new Date().toISOString(),
  command: [previous?.machine.command, `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim()]
    .filter((c) => c !== undefined)
    .join('; then '),
}
mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
const file = quick && saved === undefined ? new URL('./results/quick.json', import.meta.url) : fullFile
const all = { machine, phase, results, hubTargeted, privateStorms, publishRates, idle }
writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`)
if (!quick || flags.has('report') || saved !== undefined) writeReport({ ...all, median })
console.log(`raw results: ${file.pathname}`)
