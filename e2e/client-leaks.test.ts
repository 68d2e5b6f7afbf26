/**
 * 1,000 reconnect cycles of one client in Node, half cut by the server and half by the
 * client: heap and handle counts measured before and after stay flat.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { createClient } from '@rt/client'
import { createHub, memoryLog } from '@rt/server'
import { afterEach, expect, test, vi } from 'vitest'
import { trackSockets } from './support/proxies.js'
import { serveHub } from './support/servers.js'

type Events = { n: number }

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

function handles(): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1
  return counts
}

async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return process.memoryUsage().heapUsed
}

test('1,000 reconnect cycles leave heap and handle counts flat', { timeout: 60_000 }, async () => {
  // A small log, so the hub's own retention does not grow with the cycles.
  const hub = createHub<Events>({ log: memoryLog({ capacity: 50 }), retryMs: 1, heartbeatMs: 10_000 })
  const running = await serveHub(hub, 'node')
  cleanup.push(
    () => running.close(),
    () => hub.close(),
  )
  const sockets = trackSockets(running.server)
  let requests = 0
  running.server.on('request', () => requests++)
  // No reconnect floor, so that 1,000 cycles take seconds, not minutes.
  const client = createClient<Events>({ url: running.url, topics: ['t'], transport: 'sse', minRetryMs: 0 })
  cleanup.push(() => client.close())
  let received = 0
  let wake: (() => void) | undefined
  client.on('n', () => {
    received++
    wake?.()
  })
  const receivedAtLeast = (count: number) =>
    new Promise<void>((resolve) => {
      wake = () => {
        if (received < count) return
        wake = undefined
        resolve()
      }
      wake()
    })

  /** Cuts the stream (server side on even cycles, client side on odd), then proves it is back. */
  async function cycle(i: number) {
    if (i % 2 === 0) sockets.destroyAll()
    else client.reconnect()
    // Published after the cut: it can only arrive through the next connection.
    await hub.publish({ type: 'n', topic: 't', data: i })
    await receivedAtLeast(i + 1)
  }

  // The first event sets the client's position; from then on every cut resumes from it.
  await vi.waitFor(() => expect(client.state).toBe('open'))
  await hub.publish({ type: 'n', topic: 't', data: -1 })
  await vi.waitFor(() => expect(received).toBe(1))
  received = 0
  // Warm-up: the heap grows over the first thousand cycles or so as V8 optimises and
  // pools fill, then levels off (measured up to 12,000 cycles).
  const WARM = 1_000
  for (let i = 0; i < WARM; i++) await cycle(i)
  const heapBefore = await heapAfterGc()
  const handlesBefore = handles()
  const requestsBefore = requests
  for (let i = WARM; i < WARM + 1_000; i++) await cycle(i)
  const heapAfter = await heapAfterGc()
  const handlesAfter = handles()

  expect(received).toBe(WARM + 1_000)
  expect(requests - requestsBefore).toBeGreaterThanOrEqual(1_000)
  expect(hub.stats().connections).toBe(1)
  const growth = heapAfter - heapBefore
  console.log(
    `1,000 reconnect cycles: heap ${(heapBefore / 1e6).toFixed(2)} MB -> ${(heapAfter / 1e6).toFixed(2)} MB ` +
      `(${growth >= 0 ? '+' : ''}${(growth / 1e3).toFixed(0)} kB); ` +
      `handles ${JSON.stringify(handlesBefore)} -> ${JSON.stringify(handlesAfter)}`,
  )
  // Run to run, the heap moves by a few hundred kB either way; a request, response or
  // stream kept per cycle would add several MB.
  expect(growth).toBeLessThan(1.5 * 1024 * 1024)
  for (const [type, count] of Object.entries(handlesAfter)) {
    expect(count, type).toBeLessThanOrEqual((handlesBefore[type] ?? 0) + 2)
  }
})
