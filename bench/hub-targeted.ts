/**
 * The hub's own cost of a targeted event as idle connections grow, in one process, with
 * sinks that discard bytes: no sockets, so what is measured is the hub's recipient lookup
 * and fan-out, not the kernel. Prints JSON: µs of CPU per event at each connection count.
 */
import { createHub, type StreamSink } from '@rt/server'

const COUNTS = [1_000, 2_000, 5_000, 10_000, 20_000]
const RECIPIENTS = 20
const EVENTS = 20_000

const discard: StreamSink = {
  write() {},
  bufferedBytes: 0,
  onDrain(listener) {
    listener()
  },
  end() {},
  abort() {},
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

async function measure(connections: number): Promise<number> {
  const hub = createHub<Record<string, unknown>, { userId: string }>({
    authenticate: (req) => ({ userId: req.url.searchParams.get('u') ?? '' }),
    maxConnections: 1_000_000,
  })
  for (let i = 0; i < connections; i++) {
    const url = new URL(`http://x/events?topics=all&u=u${i}`)
    const response = await hub.handle({ method: 'GET', url, headers: new Headers(), raw: null })
    if (response.kind !== 'stream') throw new Error('not a stream')
    response.open(discard)
  }
  await tick()
  const run = async (count: number) => {
    for (let i = 0; i < count; i++) {
      const to: string[] = []
      for (let r = 0; r < RECIPIENTS; r++) to.push(`u${(i * 7919 + r * 104_729) % connections}`)
      await hub.publish({ type: 'tick', topic: 'all', to, data: { i } })
      if (i % 100 === 99) await tick()
    }
    await tick()
  }
  await run(2_000) // warm-up
  const before = process.cpuUsage()
  await run(EVENTS)
  const used = process.cpuUsage(before)
  await hub.close()
  return (used.user + used.system) / EVENTS
}

const results: Record<number, number> = {}
for (const connections of COUNTS) results[connections] = await measure(connections)
process.stdout.write(`${JSON.stringify({ recipients: RECIPIENTS, events: EVENTS, usPerEvent: results })}\n`)
