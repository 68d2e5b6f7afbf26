/**
 * What the rt servers share: one hub on the log given, behind `toNodeHandler` as an app
 * would mount it, driven by the harness. Each server module only picks the log.
 */
import { createServer } from 'node:http'
import { createHub, type Log } from '@rt/server'
import { toNodeHandler } from '@rt/server/node'
import { type BenchPayload, listenOnLoopback, runServer } from './harness.js'

/**
 * Runs the benchmarked hub on `log` until the harness says exit; `cleanup` then releases
 * what the log holds outside the process (Redis keys), after the hub has closed.
 */
export async function runRtHub(log: Log, cleanup?: () => Promise<void>): Promise<void> {
  const hub = createHub<Record<string, unknown>, { userId: string }>({
    log,
    authenticate: (req) => ({ userId: req.url.searchParams.get('u') ?? 'anonymous' }),
    maxConnections: 1_000_000,
    // The idle-scale run beats every second, to measure the heartbeat's cost per beat.
    heartbeatMs: Number(process.env.BENCH_HEARTBEAT_MS ?? 15_000),
  })
  const server = createServer(toNodeHandler(hub))
  // A publish that fails (Redis gone) shows as lost events in the load generator's count.
  const publish = (data: BenchPayload, to?: readonly string[]) => {
    void hub.publish({ type: 'tick', topic: 'all', to, data }).catch(() => {})
  }
  await runServer({
    path: '/events?topics=all&u=',
    listen: () => listenOnLoopback(server),
    broadcast: (payload) => publish(payload),
    target: (to, payload) => publish(payload, to),
    close: async () => {
      await hub.close()
      await cleanup?.()
    },
  })
}
