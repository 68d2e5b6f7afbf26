/**
 * The private storm: every client on its own `user:<n>` topic drops, events for all users
 * pile up in the log, then every client resumes at once. Measures the time until all are
 * caught up and how many entries the hub read from the log to get there.
 */
import type { ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createClient } from 'redis'
import { ask, next, spawnTs } from './lib/ipc.js'
import { REDIS_URL } from './servers/redis-keys.js'
import type { PrivateLogKind } from './servers/rt-private.js'

export interface PrivateStormResult {
  log: PrivateLogKind | 'reconnect'
  clients: number
  events: number
  run: number
  /** Reconnect until every client holds all its events (NaN when the timeout hit first). */
  caughtUpMs: number
  /** Reconnect until every response has begun. */
  connectedMs: number
  /** Clients still behind at the timeout, and the events they lacked. */
  behind: number
  lost: number
  duplicates: number
  /** Entries the log handed to the hub, and the entries the clients actually missed. */
  entriesRead: number
  entriesMissed: number
  logReads: number
  /** Commands the hub sent to MongoDB during the storm (`mongo-sim` only). */
  logCommands?: number
  /** Server CPU (ms) from reconnect to caught up. */
  cpuMs: number
}

type Cpu = { cpu: NodeJS.CpuUsage }

/** Waits for a child to exit, killing it after `ms`. */
export async function exited(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null) return
  const timer = setTimeout(() => child.kill('SIGKILL'), ms)
  await new Promise((resolve) => child.once('exit', resolve))
  clearTimeout(timer)
}
/**
 * Redis's per-command calls and µs (`INFO commandstats`, commands run by scripts included;
 * µs are wall time, so they grow when Redis waits for a core) and its CPU time (`INFO cpu`,
 * as `cpu` in µs).
 */
async function commandStats(): Promise<Map<string, { calls: number; usec: number }>> {
  const client = createClient({ url: REDIS_URL })
  client.on('error', () => {})
  await client.connect()
  try {
    const text = (await client.sendCommand(['INFO', 'commandstats'])) as string
    const stats = new Map<string, { calls: number; usec: number }>()
    for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
      stats.set(match[1] as string, { calls: Number(match[2]), usec: Number(match[3]) })
    }
    const cpu = (await client.sendCommand(['INFO', 'cpu'])) as string
    const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(cpu)?.[1] ?? 0)
    stats.set('cpu', { calls: 1, usec: Math.round((seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1e6) })
    return stats
  } finally {
    client.destroy()
  }
}

/** What Redis did between two `commandStats` (other clients of the same Redis included). */
function statsDiff(a: Map<string, { calls: number; usec: number }>, b: Map<string, { calls: number; usec: number }>) {
  const rows: [string, number, number][] = []
  for (const [name, after] of b) {
    const before = a.get(name) ?? { calls: 0, usec: 0 }
    const calls = name === 'cpu' ? 1 : after.calls - before.calls
    if (calls > 0) rows.push([name, calls, after.usec - before.usec])
  }
  rows.sort((x, y) => y[2] - x[2])
  return rows.map(
    ([name, calls, usec]) => `${name}\tcalls=${calls}\tusec=${usec}\tper_call=${(usec / calls).toFixed(1)}`,
  )
}

const cpuMs = (a: Cpu, b: Cpu) => (b.cpu.user - a.cpu.user + b.cpu.system - a.cpu.system) / 1000

export async function privateStorm(
  log: PrivateLogKind,
  clients: number,
  events: number,
  run: number,
  timeoutMs: number,
): Promise<PrivateStormResult> {
  const children: ChildProcess[] = []
  try {
    const profile = process.env.BENCH_CPU_PROF
    // BENCH_STORM_PROF=dir: CPU profiles of the hub and the load generator during the storm
    // only, and what Redis did meanwhile, into dir.
    const stormProfile = process.env.BENCH_STORM_PROF
    const srv = spawnTs(
      'servers/rt-private.ts',
      [log, String(events + 50_000)],
      profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [],
    )
    children.push(srv)
    const { port, path } = await next<{ port: number; path: string }>(srv, 'ready')
    const load = spawnTs('load/clients.ts', [`http://127.0.0.1:${port}`, path, 'sse'])
    children.push(load)
    await next(load, 'ready')
    // Connected once (so each holds a position), then everyone is away while events arrive.
    await ask(load, { cmd: 'connect', count: clients, offset: 0 }, 'connected', 180_000)
    await ask(load, { cmd: 'dropAll' }, 'dropped')
    await ask(srv, { cmd: 'seed', users: clients, events }, 'seeded', 600_000)
    await ask(srv, { cmd: 'resetReads' }, 'readsReset')
    await ask(load, { cmd: 'reset' }, 'resetDone')
    const redisBefore = stormProfile !== undefined && log === 'redis' ? await commandStats() : undefined
    if (stormProfile !== undefined) {
      await ask(srv, { cmd: 'profileStart' }, 'profiling')
      await ask(load, { cmd: 'profileStart' }, 'profiling')
    }
    const u0 = await ask<Cpu>(srv, { cmd: 'usage' }, 'usage')
    const perUser = Math.ceil(events / clients)
    const resumed = await ask<{ caughtUp: boolean; ms: number; connectedMs: number; behind: number; missing: number }>(
      load,
      { cmd: 'resume', seq: perUser, timeoutMs },
      'resumed',
      timeoutMs + 120_000,
    )
    const u1 = await ask<Cpu>(srv, { cmd: 'usage' }, 'usage')
    if (stormProfile !== undefined) {
      const name = join(stormProfile, `storm-${log}-${clients}-${run}`)
      await ask(srv, { cmd: 'profileStop', file: `${name}.hub.cpuprofile` }, 'profiled')
      await ask(load, { cmd: 'profileStop', file: `${name}.load.cpuprofile` }, 'profiled')
      if (redisBefore !== undefined)
        writeFileSync(`${name}.redis.txt`, `${statsDiff(redisBefore, await commandStats()).join('\n')}\n`)
    }
    const reads = await ask<{ calls: number; entries: number; commands: number }>(srv, { cmd: 'reads' }, 'readsDone')
    const stats = await ask<Record<string, number>>(load, { cmd: 'stats' }, 'stats')
    return {
      log,
      clients,
      events,
      run,
      caughtUpMs: resumed.caughtUp ? resumed.ms : Number.NaN,
      connectedMs: resumed.connectedMs,
      behind: resumed.behind,
      lost: resumed.caughtUp ? (stats.gaps as number) : resumed.missing + (stats.gaps as number),
      duplicates: stats.duplicates as number,
      entriesRead: reads.entries,
      entriesMissed: events,
      logReads: reads.calls,
      ...(log === 'mongo-sim' ? { logCommands: reads.commands } : {}),
      cpuMs: cpuMs(u0, u1),
    }
  } finally {
    const [srv] = children
    for (const child of children.slice(1)) if (child.exitCode === null) child.kill('SIGKILL')
    if (srv !== undefined && srv.exitCode === null) {
      await ask(srv, { cmd: 'exit' }, 'exiting', 5_000).catch(() => {})
      // It deletes its Redis keys before it exits: give it time on a busy machine.
      await exited(srv, 30_000)
    }
  }
}
