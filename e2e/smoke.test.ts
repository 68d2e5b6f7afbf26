import { createHub } from '@rt/server'
import { afterEach, describe, expect, test } from 'vitest'
import { ADAPTERS, type Running, serveHub } from './support/servers.js'
import { appEvents, openSse } from './support/sse.js'

const running: Running[] = []
afterEach(async () => {
  for (const r of running.splice(0)) await r.close()
})

describe.each(ADAPTERS)('%s adapter', (kind) => {
  test('streams, resumes after the given id, and answers 400 for no topics', async () => {
    const hub = createHub()
    const server = await serveHub(hub, kind)
    running.push(server)
    const first = await openSse(`${server.url}?topics=a`)
    expect(first.status).toBe(200)
    expect(first.headers.get('content-type')).toMatch(/^text\/event-stream/)
    await first.until((e) => e.some((x) => x.event === 'rt.connected'))
    await hub.publish({ type: 'm', topic: 'a', data: 1 })
    await hub.publish({ type: 'm', topic: 'a', data: 2 })
    await first.until((e) => appEvents(e).length === 2)
    const firstId = appEvents(first.events)[0]?.id as string
    first.close()
    await hub.publish({ type: 'm', topic: 'a', data: 3 })
    const second = await openSse(`${server.url}?topics=a`, { lastEventId: firstId })
    await second.until((e) => appEvents(e).length === 2)
    expect(appEvents(second.events).map((e) => e.data)).toEqual([2, 3])
    second.close()
    const bad = await openSse(server.url)
    expect(bad.status).toBe(400)
    await hub.close()
  })
})
