/**
 * @rt/client in headless Chromium, bundled from its sources and served with a real hub:
 * events arrive, a reload with `persist: 'session'` resumes with nothing lost or
 * repeated, acks reach `onAck` exactly once per id, and a second page's presence is seen.
 */
import { createHub } from '@rt/server'
import { toNodeHandler } from '@rt/server/node'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { type Chromium, launchChromium } from './support/browser.js'
import { bundleClient } from './support/bundle.js'
import { type Running, serveListener } from './support/servers.js'

type Events = { n: number }

/** What the page keeps on `window.rt`. */
interface PageState {
  loads: number
  received: number[]
  presence: unknown[]
  states: string[]
}

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>rt client</title></head><body><script type="module">
  import { createClient } from '/client.js'
  const params = new URLSearchParams(location.search)
  const user = params.get('user')
  const key = 'received:' + user
  // Kept in sessionStorage too, so the test sees what every load of the page received.
  const received = JSON.parse(sessionStorage.getItem(key) ?? '[]')
  const loads = Number(sessionStorage.getItem('loads') ?? 0) + 1
  sessionStorage.setItem('loads', String(loads))
  window.rt = { loads, received, presence: [], states: [] }
  const client = createClient({
    url: '/events',
    topics: ['room'],
    headers: { 'x-user': user },
    persist: 'session',
    ack: true,
    presence: true,
  })
  client.on('n', (n) => {
    received.push(n)
    sessionStorage.setItem(key, JSON.stringify(received))
  })
  client.on('presence', (info) => window.rt.presence.push(info))
  client.onState((state) => window.rt.states.push(state))
</script></body></html>`

let chromium: Chromium
let running: Running
const hub = createHub<Events>({
  retryMs: 50,
  authenticate: (req) => {
    const userId = req.headers.get('x-user')
    return userId === null ? null : { userId }
  },
})
/** Ids acknowledged one by one (not the cumulative ack a resume implies). */
const acked: string[] = []
hub.onAck((_identity, ids, meta) => {
  if (!meta.cumulative) acked.push(...ids)
})

/** When set, the next stream request waits here until the test lets it through. */
let hold: { arrived: (lastEventId: string | undefined) => void; release: Promise<void> } | undefined

beforeAll(async () => {
  const script = await bundleClient()
  const events = toNodeHandler(hub)
  running = await serveListener((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path === '/events' && req.method === 'GET' && hold !== undefined) {
      const held = hold
      hold = undefined
      held.arrived(req.headers['last-event-id'] as string | undefined)
      return void held.release.then(() => events(req, res))
    }
    if (path === '/events') return void events(req, res)
    if (path === '/client.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' })
      return void res.end(script)
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(PAGE)
  })
  chromium = await launchChromium()
})

afterAll(async () => {
  await chromium?.close()
  await hub.close()
  await running?.close()
})

const state = (page: Page) => page.evaluate(() => (window as unknown as { rt: PageState }).rt)
const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i)

async function publish(from: number, count: number, gapMs = 0): Promise<string[]> {
  const ids: string[] = []
  for (let n = from; n < from + count; n++) {
    ids.push(await hub.publish({ type: 'n', topic: 'room', data: n }))
    if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs))
  }
  return ids
}

test('events, a reload that resumes exactly, acks once per id, and presence across pages', async () => {
  const a = await chromium.open(`${running.origin}/?user=u1`)
  const openNow = (page: Page) =>
    page.waitForFunction(() => (window as unknown as { rt?: PageState }).rt?.states.at(-1) === 'open')
  await openNow(a.page)
  const ids = await publish(0, 30)
  await a.page.waitForFunction(() => (window as unknown as { rt: PageState }).rt.received.length === 30)

  // Reload. Events published while the old page unloads may reach it or not; those
  // published once the new page asks for its stream can only come from the stored id.
  let release: () => void = () => {}
  const arrived = new Promise<string | undefined>((resolve) => {
    hold = { arrived: resolve, release: new Promise<void>((r) => (release = r)) }
  })
  const reloading = a.page.reload({ waitUntil: 'load' })
  ids.push(...(await publish(30, 10, 3)))
  const resumedFrom = await arrived
  expect(ids).toContain(resumedFrom)
  ids.push(...(await publish(40, 20)))
  release()
  await reloading
  await openNow(a.page)
  ids.push(...(await publish(60, 20)))
  await a.page.waitForFunction(() => (window as unknown as { rt: PageState }).rt.received.length >= 80)
  const afterReload = await state(a.page)
  expect(afterReload.loads).toBe(2)
  expect(afterReload.received).toEqual(range(80))

  // Every id acknowledged, each exactly once, the batch flushed on page hide included.
  await expect.poll(() => new Set(acked).size, { timeout: 5_000 }).toBe(80)
  expect(acked.toSorted()).toEqual(ids.toSorted())

  // A second user opens the room: each page sees the other.
  const b = await chromium.open(`${running.origin}/?user=u2`)
  await openNow(b.page)
  await a.page.waitForFunction(() =>
    (window as unknown as { rt: PageState }).rt.presence.some((p) => (p as { joined?: string }).joined === 'u2'),
  )
  const seenByB = (await state(b.page)).presence as { topic: string; online?: string[] }[]
  expect(seenByB[0]?.topic).toBe('room')
  expect(seenByB[0]?.online?.toSorted()).toEqual(['u1', 'u2'])
  await b.close()
  await a.page.waitForFunction(() =>
    (window as unknown as { rt: PageState }).rt.presence.some((p) => (p as { left?: string }).left === 'u2'),
  )
  expect(await hub.presence.online('room')).toEqual(['u1'])
  expect(a.problems).toEqual([])
  expect(b.problems).toEqual([])
  await a.close()
})
