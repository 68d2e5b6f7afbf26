import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { EventSource } from 'eventsource'
import { afterEach, expect, test } from 'vitest'
import { createHub } from '../src/index.js'
import { toNodeHandler } from '../src/node/index.js'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

test('an EventSource receives published events, then resumes', async () => {
  const hub = createHub()
  const server = createServer(toNodeHandler(hub))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  cleanups.push(
    () => new Promise<void>((r) => server.close(() => r())),
    () => hub.close(),
  )
  const { port } = server.address() as AddressInfo
  const es = new EventSource(`http://127.0.0.1:${port}/events?topics=a`)
  cleanups.push(() => es.close())
  const got: string[] = []
  const ids: string[] = []
  const connected = new Promise((r) => es.addEventListener('rt.connected', r))
  const three = new Promise<void>((resolve) => {
    es.addEventListener('msg', (e) => {
      got.push(JSON.parse(e.data).data)
      ids.push(e.lastEventId)
      if (got.length === 3) resolve()
    })
  })
  await connected
  await hub.publish({ type: 'msg', topic: 'a', data: 'one' })
  await hub.publish({ type: 'msg', topic: 'b', data: 'other topic' })
  await hub.publish({ type: 'msg', topic: 'a', data: 'two\r\nthree' })
  await hub.publish({ type: 'msg', topic: 'a', data: 'four' })
  await three
  expect(got).toEqual(['one', 'two\r\nthree', 'four'])
  es.close()

  const res = await fetch(`http://127.0.0.1:${port}/events?topics=a`, {
    headers: { 'last-event-id': ids[0] as string },
  })
  const reader = res.body!.getReader()
  let text = ''
  while (!text.includes('four')) text += new TextDecoder().decode((await reader.read()).value)
  await reader.cancel()
  expect(text).toContain('two\\r\\nthree')
  expect(text).not.toContain('"one"')
  expect(hub.stats().published).toBe(4)
})
