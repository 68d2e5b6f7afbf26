/**
 * `@rt/client/share` where Web Locks are missing (Node 20 has BroadcastChannel but no
 * `navigator.locks`): the heartbeat-and-claim election, tabs that ask for different types
 * and presence over one stream, and a leader that closes handing over with nothing lost.
 */

import type { Client, PresenceInfo } from '@rt/client/share'
import { createClient } from '@rt/client/share'
import { createHub } from '@rt/server'
import { toNodeHandler } from '@rt/server/node'
import { afterEach, expect, test } from 'vitest'
import { type Running, serveListener } from './support/servers.js'

type Events = { n: number; m: number }

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

interface Tab {
  readonly client: Client<Events>
  readonly got: string[]
  readonly presence: PresenceInfo[]
  readonly states: string[]
}

function openTab(running: Running, options: { topics: string[]; types?: string[]; presence?: boolean }): Tab {
  const client = createClient<Events>({ url: running.url, share: 'u1', headers: { 'x-user': 'u1' }, ...options })
  cleanups.push(() => client.close())
  const got: string[] = []
  const presence: PresenceInfo[] = []
  const states: string[] = []
  client.on('n', (data, meta) => got.push(`n@${meta.topic}:${data}`))
  client.on('m', (data, meta) => got.push(`m@${meta.topic}:${data}`))
  client.on('presence', (info) => presence.push(info))
  client.onState((state) => states.push(state))
  return { client, got, presence, states }
}

test('one stream for tabs with different types and presence; a closing leader hands over', async () => {
  const hub = createHub<Events>({
    retryMs: 50,
    authenticate: (req) => ({ userId: req.headers.get('x-user') ?? 'anonymous' }),
  })
  const streams: URL[] = []
  const events = toNodeHandler(hub)
  const running = await serveListener((req, res) => {
    if (req.method === 'GET') streams.push(new URL(req.url ?? '/', 'http://localhost'))
    void events(req, res)
  })
  cleanups.push(
    () => running.close(),
    () => hub.close(),
  )

  const a = openTab(running, { topics: ['a'], types: ['n'] })
  await expect.poll(() => a.client.state).toBe('open')
  // Next in line after A (the oldest tab wins), and sees no event of its own.
  const c = openTab(running, { topics: ['c'], types: ['n'] })
  await expect.poll(() => c.client.state).toBe('open')
  const b = openTab(running, { topics: ['a', 'b'], types: ['m'], presence: true })
  // B wants presence: the leader opens a new stream for the union.
  await expect.poll(() => streams.at(-1)?.searchParams.get('presence')).toBe('1')
  const last = streams.at(-1) as URL
  expect(last.searchParams.get('topics')).toBe('a,b,c')
  expect(last.searchParams.get('types')).toBe('m,n')
  await expect.poll(() => b.client.state).toBe('open')
  await expect.poll(() => b.presence.length).toBeGreaterThanOrEqual(2)
  expect(hub.stats().connections).toBe(1)

  await hub.publish({ type: 'n', topic: 'a', data: 1 })
  await hub.publish({ type: 'm', topic: 'a', data: 2 })
  await hub.publish({ type: 'm', topic: 'b', data: 3 })
  await hub.publish({ type: 'n', topic: 'b', data: 4 })
  await expect.poll(() => b.got.length).toBe(2)
  await expect.poll(() => a.got.length).toBe(1)
  expect(a.got).toEqual(['n@a:1'])
  expect(b.got).toEqual(['m@a:2', 'm@b:3'])
  expect(a.presence).toEqual([])
  expect(b.presence.slice(0, 2)).toEqual([
    { topic: 'a', online: ['u1'] },
    { topic: 'b', online: ['u1'] },
  ])

  // The leader closes: C leads, for B's topics and its own, from the last position relayed
  // to it (C saw no event itself): what is published during the handover reaches B.
  const before = streams.length
  a.client.close()
  await hub.publish({ type: 'm', topic: 'b', data: 5 })
  await expect.poll(() => streams.length, { timeout: 10_000 }).toBeGreaterThan(before)
  await expect.poll(() => hub.stats().connections).toBe(1)
  expect(streams.at(-1)?.searchParams.get('topics')).toBe('a,b,c')
  expect(streams.at(-1)?.searchParams.get('types')).toBe('m,n')
  expect(c.got).toEqual([])
  await hub.publish({ type: 'm', topic: 'a', data: 6 })
  await expect.poll(() => b.got.length, { timeout: 10_000 }).toBe(4)
  expect(b.got).toEqual(['m@a:2', 'm@b:3', 'm@b:5', 'm@a:6'])
  expect(b.states).not.toContain('closed')
  expect(c.states).not.toContain('closed')
  await expect.poll(() => hub.stats().connections).toBe(1)
})

test('a lone client with share behaves as the plain client', async () => {
  const hub = createHub<Events>({ retryMs: 50 })
  const running = await serveListener(toNodeHandler(hub))
  cleanups.push(
    () => running.close(),
    () => hub.close(),
  )
  const tab = openTab(running, { topics: ['a'] })
  await expect.poll(() => tab.client.state).toBe('open')
  const id = await hub.publish({ type: 'n', topic: 'a', data: 1 })
  await expect.poll(() => tab.got).toEqual(['n@a:1'])
  expect(tab.client.lastEventId).toBe(id)
  tab.client.close()
  expect(tab.client.state).toBe('closed')
  expect(tab.states).toEqual(['open', 'closed'])
  await expect.poll(() => hub.stats().connections).toBe(0)
})
