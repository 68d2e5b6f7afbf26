/**
 * Idle scale: many connections to one hub process, opened by several load processes from
 * several loopback source addresses (127.0.0.2, .3, …; loopback only). Measures RSS and heap
 * per connection after a forced GC, and the CPU the heartbeat costs: the server beats every
 * second here, so CPU per beat and the share of a core at the default 15 s both follow.
 */
import { type ChildProcess, execFileSync } from 'node:child_process'
import { ask, next, spawnTs } from './lib/ipc.js'

export interface IdleResult {
  requested: number
  connections: number
  /** Why fewer connections than requested, when so. */
  limitedBy?: string
  rssPerConnKB: number
  heapPerConnKB: number
  /** CPU ms per heartbeat over every connection, and the share of one core at 15 s / 1 s. */
  cpuMsPerBeat: number
  corePercentAt15s: number
  corePercentAt1s: number
}

/** Open files one process may hold here (the hard limit the benchmark cannot raise). */
function fileLimit(): number {
  const text = execFileSync('bash', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim()
  return text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text)
}

type Usage = { cpu: NodeJS.CpuUsage }
const PER_LOAD = 12_500
const BEAT_MS = 1_000
const WINDOW_MS = 10_000

export async function idleScale(requested: number): Promise<IdleResult> {
  const limit = fileLimit()
  const connections = Math.min(requested, limit - 500)
  const children: ChildProcess[] = []
  try {
    process.env.BENCH_HEARTBEAT_MS = String(BEAT_MS)
    const srv = spawnTs('servers/rt.ts', [], ['--expose-gc'])
    delete process.env.BENCH_HEARTBEAT_MS
    children.push(srv)
    const { port, path } = await next<{ port: number; path: string }>(srv, 'ready')
    const before = await ask<{ rss: number; heap: number }>(srv, { cmd: 'gc' }, 'gcDone')
    const loads = Math.ceil(connections / PER_LOAD)
    const opened: Promise<unknown>[] = []
    for (let i = 0; i < loads; i++) {
      const load = spawnTs('load/clients.ts', [`http://127.0.0.1:${port}`, path, 'sse', `127.0.0.${i + 2}`])
      children.push(load)
      await next(load, 'ready')
      const count = Math.min(PER_LOAD, connections - i * PER_LOAD)
      opened.push(ask(load, { cmd: 'connect', count, offset: i * PER_LOAD }, 'connected', 600_000))
    }
    await Promise.all(opened)
    const after = await ask<{ rss: number; heap: number }>(srv, { cmd: 'gc' }, 'gcDone')
    const u0 = await ask<Usage>(srv, { cmd: 'usage' }, 'usage')
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS))
    const u1 = await ask<Usage>(srv, { cmd: 'usage' }, 'usage')
    const cpuMs = (u1.cpu.user - u0.cpu.user + u1.cpu.system - u0.cpu.system) / 1000
    const cpuMsPerBeat = cpuMs / (WINDOW_MS / BEAT_MS)
    return {
      requested,
      connections,
      limitedBy: connections < requested ? `open files: ulimit -Hn is ${limit}` : undefined,
      rssPerConnKB: (after.rss - before.rss) / connections / 1024,
      heapPerConnKB: (after.heap - before.heap) / connections / 1024,
      cpuMsPerBeat,
      corePercentAt15s: (cpuMsPerBeat / 15_000) * 100,
      corePercentAt1s: (cpuMsPerBeat / 1_000) * 100,
    }
  } finally {
    const [srv] = children
    for (const child of children.slice(1)) if (child.exitCode === null) child.kill('SIGKILL')
    if (srv !== undefined && srv.exitCode === null) {
      await ask(srv, { cmd: 'exit' }, 'exiting', 5_000).catch(() => {})
      await new Promise((resolve) => setTimeout(resolve, 500))
      if (srv.exitCode === null) srv.kill('SIGKILL')
    }
  }
}
