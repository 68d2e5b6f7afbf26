import { createClient } from '@rt/client'
import { createHub, memoryLog } from '@rt/server'
import { afterEach, expect, test } from 'vitest'
import { type Running, serveHub } from './support/servers.js'

const running: Running[] = []
afterEach(async () => {
  for (const r of running.splice(0)) await r.close()
})

test('given several URLs, the client fails over to the next node with nothing lost or repeated', async () => {
  // Two nodes on one shared log: the same ids on both, as with redisLog across processes.
  const log = memoryLog({ capacity: 10_000 })
  const nodeA = createHub({ log })
  const nodeB = createHub({ log })
  const a = await serveHub(nodeA, 'node')
  const b = await serveHub(nodeB, 'node')
  running.push(b)

  const received: number[] = []
  const seen = new Set<string>()
  let wanted = 0
  let reached: () => void = () => {}
  const client = createClient<{ n: number }>({ url: [a.url, b.url], topics: ['t'], transport: 'sse', retryMs: 20 })
  client.on('n', (data, meta) => {
    received.push(data)
    seen.add(meta.id)
    if (received.length >= wanted) reached()
  })
  const until = (count: number) =>
    new Promise<void>((resolve) => {
      wanted = count
      reached = resolve
      if (received.length >= count) resolve()
    })
  await new Promise<void>((resolve) => client.onState((s) => s === 'open' && resolve()))

  for (let i = 0; i < 50; i++) await nodeB.publish({ type: 'n', topic: 't', data: i })
  await until(50)
  // Node A dies: its connections are cut and it accepts no more.
  await a.close()
  for (let i = 50; i < 100; i++) await nodeB.publish({ type: 'n', topic: 't', data: i })
  await until(100)

  expect(received).toEqual([...Array(100).keys()])
  expect(seen.size).toBe(100)
  expect(nodeB.stats().connections).toBe(1)
  client.close()
  await nodeB.close()
})
