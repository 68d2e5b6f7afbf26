import { createHub } from '@rt/server'
import { afterEach, describe, expect, test } from 'vitest'
import { ADAPTERS, type Running, serveHub } from './support/servers.js'
import { openSse, type SseEvent } from './support/sse.js'

const running: Running[] = []
afterEach(async () => {
  for (const r of running.splice(0)) await r.close()
})

const asUser = (userId: string) => ({ headers: { 'x-user': userId } })
const presenceOf = (events: readonly SseEvent[]) =>
  events.filter((e) => e.event === 'rt.presence').map((e) => JSON.parse(e.data) as Record<string, unknown>)

function userHub() {
  return createHub<{ m: number }, { userId: string }>({
    authenticate: (req) => {
      const userId = req.headers.get('x-user')
      return userId === null ? null : { userId }
    },
  })
}

describe.each(ADAPTERS)('presence through the %s adapter', (kind) => {
  test('snapshot on connect, join on a first stream, leave on the last', async () => {
    const hub = userHub()
    const server = await serveHub(hub, kind)
    running.push(server)
    const watcher = await openSse(`${server.url}?topics=room,other&presence=1`, asUser('w'))
    await watcher.until((e) => presenceOf(e).length === 2)
    expect(presenceOf(watcher.events)).toEqual([
      { topic: 'room', online: ['w'] },
      { topic: 'other', online: ['w'] },
    ])

    const tab1 = await openSse(`${server.url}?topics=room`, asUser('u1'))
    await watcher.until((e) => presenceOf(e).length === 3)
    const tab2 = await openSse(`${server.url}?topics=room`, asUser('u1'))
    await tab2.until((e) => e.some((x) => x.event === 'rt.connected'))
    expect(await hub.presence.online('room')).toEqual(['w', 'u1'])
    tab1.close()
    await expect.poll(() => hub.stats().users.u1).toBe(1)
    tab2.close()
    await watcher.until((e) => presenceOf(e).length === 4)
    // A second tab neither joins nor leaves again; streams without presence=1 get no presence events.
    expect(presenceOf(watcher.events).slice(2)).toEqual([
      { topic: 'room', joined: 'u1' },
      { topic: 'room', left: 'u1' },
    ])
    expect(presenceOf(tab1.events)).toEqual([])
    expect(await hub.presence.online('room')).toEqual(['w'])
    watcher.close()
    await expect.poll(() => hub.presence.online('room')).toEqual([])
    await hub.close()
  })
})

describe.each(ADAPTERS)('acks through the %s adapter', (kind) => {
  test('POST { ack } reaches onAck with the identity; resuming acknowledges cumulatively', async () => {
    const hub = userHub()
    const acks: { userId: string; ids: readonly string[]; cumulative: boolean }[] = []
    hub.onAck((identity, ids, meta) => {
      acks.push({ userId: identity.userId, ids, cumulative: meta.cumulative })
    })
    const server = await serveHub(hub, kind)
    running.push(server)
    const id = await hub.publish({ type: 'm', topic: 'a', data: 1 })

    const post = (body: string, headers: Record<string, string> = { 'x-user': 'u1' }) =>
      fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
    expect((await post(JSON.stringify({ ack: [id, id] }))).status).toBe(204)
    expect(acks).toEqual([{ userId: 'u1', ids: [id], cumulative: false }])

    expect((await post(JSON.stringify({ ack: [id] }), {})).status).toBe(401)
    for (const body of ['{', '{"ack":"x"}', '{"ack":[1]}', JSON.stringify({ ack: Array(1001).fill('x') })]) {
      const res = await post(body)
      expect([400, 413]).toContain(res.status)
      expect(((await res.json()) as { error: { code: string } }).error.code).toMatch(/bad_request|payload_too_large/)
    }
    const huge = await post(JSON.stringify({ ack: Array(20_000).fill('abcdefgh') }))
    expect(huge.status).toBe(413)
    expect(acks).toHaveLength(1)

    const resumed = await openSse(`${server.url}?topics=a`, { lastEventId: id, headers: { 'x-user': 'u1' } })
    await resumed.until((e) => e.some((x) => x.event === 'rt.connected'))
    await expect.poll(() => acks.length).toBe(2)
    expect(acks[1]).toEqual({ userId: 'u1', ids: [id], cumulative: true })
    resumed.close()
    await hub.close()
  })

  test('a failing ack listener answers 500 without leaking its error', async () => {
    const errors: unknown[] = []
    const hub = createHub({ onError: (error) => errors.push(error) })
    hub.onAck(() => {
      throw new Error('database down: secret')
    })
    const server = await serveHub(hub, kind)
    running.push(server)
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"ack":["x-1"]}',
    })
    expect(res.status).toBe(500)
    expect(await res.text()).not.toContain('secret')
    expect(errors).toHaveLength(1)
    await hub.close()
  })
})
