/**
 * What the log keeps is what `publish` validated: an app that mutates (or makes circular)
 * an object after publishing it changes nothing that replay or long-poll return.
 */
import { createHub } from '@rt/server'
import { afterEach, describe, expect, test } from 'vitest'
import { ADAPTERS, type Running, serveHub } from './support/servers.js'
import { appEvents, openSse } from './support/sse.js'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe.each(ADAPTERS)('%s adapter', (kind) => {
  test('mutating published data afterwards changes neither replay nor long-poll', async () => {
    const hub = createHub()
    const server: Running = await serveHub(hub, kind)
    cleanups.push(
      () => hub.close(),
      () => server.close(),
    )
    const origin = await hub.publish({ type: 'm', topic: 'other', data: null })
    const data: Record<string, unknown> = { text: 'as published', list: [1, 2] }
    const id = await hub.publish({ type: 'm', topic: 'a', data })
    // The app reuses its object: edits it, then makes it circular.
    data.text = 'edited later'
    ;(data.list as number[]).push(3)
    data.self = data

    const poll = await fetch(`${server.url}?topics=a&transport=poll&lastEventId=${origin}`)
    expect(poll.status).toBe(200)
    const answer = (await poll.json()) as { events: { id: string; data: unknown }[] }
    expect(answer.events).toMatchObject([{ id, data: { text: 'as published', list: [1, 2] } }])

    const stream = await openSse(`${server.url}?topics=a`, { lastEventId: origin })
    cleanups.push(() => stream.close())
    await stream.until((events) => appEvents(events).length === 1)
    expect(appEvents(stream.events)).toMatchObject([{ id, data: { text: 'as published', list: [1, 2] } }])
    expect(stream.events.map((e) => e.event)).toEqual(['rt.connected', 'm'])
    expect(hub.stats().dropped).toBe(0)
  })
})
