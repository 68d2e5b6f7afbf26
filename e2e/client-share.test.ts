/**
 * `@rt/client/share` in headless Chromium: tabs of one browser context hold one stream
 * between them on HTTP/1.1, every tab gets every event once, closing the leader tab hands
 * over with nothing lost or repeated, and one tab's topics come and go without disturbing
 * the others. Runs with Web Locks and with the BroadcastChannel fallback.
 */
import { createHub } from '@rt/server'
import { toNodeHandler } from '@rt/server/node'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type Chromium, launchChromium } from './support/browser.js'
import { bundleClient } from './support/bundle.js'
import { type Running, serveListener } from './support/servers.js'

type Events = { n: number }

/** What a tab keeps on `window.rt`: `topic:n` per event received, and its states. */
interface TabState {
  received: string[]
  states: string[]
}

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>rt shared</title></head><body><script type="module">
  import { createClient } from '/share.js'
  const params = new URLSearchParams(location.search)
  // The fallback for browsers without Web Locks.
  if (params.has('nolocks')) delete Navigator.prototype.locks
  window.rt = { received: [], states: [] }
  const client = createClient({ url: '/events', topics: ['room'], share: true })
  window.client = client
  client.on('n', (n, meta) => window.rt.received.push(meta.topic + ':' + n))
  client.onState((state) => window.rt.states.push(state))
</script></body></html>`

let chromium: Chromium
let running: Running
const hub = createHub<Events>({ retryMs: 50 })
/** Stream requests (GET /events) per page: the page that makes them leads. */
const streamsOf = new Map<Page, number>()
/** When set, the next stream request waits here until the test lets it through. */
let hold: { arrived: (lastEventId: string | undefined) => void; release: Promise<void> } | undefined

beforeAll(async () => {
  const script = await bundleClient('share/index.ts')
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
    const [type, body] = path === '/share.js' ? ['text/javascript', script] : ['text/html', PAGE]
    res.writeHead(200, { 'content-type': `${type}; charset=utf-8` })
    res.end(body)
  })
  chromium = await launchChromium()
})

afterAll(async () => {
  await chromium?.close()
  await hub.close()
  await running?.close()
})

const tabState = (page: Page) => page.evaluate(() => (window as unknown as { rt: TabState }).rt)
const received = async (page: Page) => (await tabState(page)).received
const range = (topic: string, from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `${topic}:${from + i}`)

async function openTabs(context: BrowserContext, count: number, query: string): Promise<Page[]> {
  const pages: Page[] = []
  for (let i = 0; i < count; i++) {
    const page = await context.newPage()
    streamsOf.set(page, 0)
    page.on('request', (request) => {
      if (request.method() === 'GET' && new URL(request.url()).pathname === '/events') {
        streamsOf.set(page, (streamsOf.get(page) ?? 0) + 1)
      }
    })
    page.on('pageerror', (error) => {
      throw error
    })
    await page.goto(`${running.origin}/${query}`)
    await page.waitForFunction(() => (window as unknown as { rt?: TabState }).rt?.states.includes('open'))
    pages.push(page)
  }
  return pages
}

async function publish(topic: string, from: number, to: number): Promise<void> {
  for (let n = from; n < to; n++) await hub.publish({ type: 'n', topic, data: n })
}

/** Waits until every page has received `count` events. */
async function allReceived(pages: Page[], count: number): Promise<void> {
  for (const page of pages) {
    await page.waitForFunction((n) => (window as unknown as { rt: TabState }).rt.received.length >= n, count)
  }
}

const leaders = (pages: Page[]) => pages.filter((page) => (streamsOf.get(page) ?? 0) > 0)

/**
 * The tabs that made stream requests. With Web Locks exactly one tab leads, the first in
 * line. The fallback's election runs on timers: on a starved machine a tab may claim before
 * it hears the leader and step back a beat later, and a leader that is up first keeps the
 * stream against claims from older tabs. There it is enough that the leader is `oldest`
 * when given (a leader never yields to a younger tab), or else one of `pages`; one stream
 * on the server once things settle is what the callers check.
 */
function expectLeader(pages: Page[], locks: boolean, oldest?: Page): void {
  if (locks) expect(leaders(pages)).toEqual([pages[0]])
  else if (oldest) expect(leaders(pages)).toContain(oldest)
  else expect(leaders(pages).length).toBeGreaterThan(0)
}

/** The fallback's overlap lasts until the older leader's next beat, later on a starved machine. */
const SETTLE = { timeout: 10_000 }

describe.each([
  { mode: 'Web Locks', query: '', tabs: 8 },
  { mode: 'BroadcastChannel fallback', query: '?nolocks', tabs: 4 },
])('$mode', ({ query, tabs }) => {
  const locks = query === ''
  test(`${tabs} tabs hold one stream; closing the leader tab loses and repeats nothing`, async () => {
    const context = await chromium.context()
    const pages = await openTabs(context, tabs, query)
    expect(await pages[0]?.evaluate(() => 'locks' in navigator)).toBe(locks)
    await expect.poll(() => hub.stats().connections, SETTLE).toBe(1)
    expectLeader(pages, locks, pages[0])

    const ids: string[] = []
    for (let n = 0; n < 10; n++) ids.push(await hub.publish({ type: 'n', topic: 'room', data: n }))
    await allReceived(pages, 10)
    for (const page of pages) expect(await received(page)).toEqual(range('room', 0, 10))

    // The leader goes. The next leader's request is held while events are published: it
    // resumes from the last id relayed, and they reach every other tab once.
    let release: () => void = () => {}
    const arrived = new Promise<string | undefined>((resolve) => {
      hold = { arrived: resolve, release: new Promise<void>((r) => (release = r)) }
    })
    const [leader, ...rest] = pages
    await leader?.close()
    expect(await arrived).toBe(ids.at(-1))
    await expect.poll(() => hub.stats().connections).toBe(0)
    await publish('room', 10, 15)
    release()
    await expect.poll(() => hub.stats().connections, SETTLE).toBe(1)
    expectLeader(rest, locks)
    await publish('room', 15, 20)
    await allReceived(rest, 20)
    for (const page of rest) expect(await received(page)).toEqual(range('room', 0, 20))
    expect(hub.stats().connections).toBe(1)
    await context.close()
    await expect.poll(() => hub.stats().connections).toBe(0)
  }, 60_000)

  test("a follower's topic comes and goes without disturbing the other tabs", async () => {
    const context = await chromium.context()
    const pages = await openTabs(context, 3, query)
    await expect.poll(() => hub.stats().connections, SETTLE).toBe(1)
    expectLeader(pages, locks, pages[0])
    const follower = pages[2] as Page
    const others = pages.slice(0, 2)
    const update = (topics: string[]) =>
      follower.evaluate(
        (t) =>
          (window as unknown as { client: { update(u: { topics: string[] }): void } }).client.update({ topics: t }),
        topics,
      )

    await update(['room', 'side'])
    await expect.poll(() => hub.stats().topics.side ?? 0, { timeout: 10_000 }).toBe(1)
    await publish('side', 0, 3)
    await publish('room', 0, 3)
    await allReceived(pages, 3)
    await follower.waitForFunction(() => (window as unknown as { rt: TabState }).rt.received.length >= 6)
    expect(await received(follower)).toEqual([...range('side', 0, 3), ...range('room', 0, 3)])
    for (const page of others) expect(await received(page)).toEqual(range('room', 0, 3))

    await update(['room'])
    await expect.poll(() => hub.stats().topics.side ?? 0, { timeout: 10_000 }).toBe(0)
    await publish('side', 3, 6)
    await publish('room', 3, 6)
    await allReceived(others, 6)
    await follower.waitForFunction(() => (window as unknown as { rt: TabState }).rt.received.length >= 9)
    expect(await received(follower)).toEqual([...range('side', 0, 3), ...range('room', 0, 6)])
    for (const page of others) {
      expect(await received(page)).toEqual(range('room', 0, 6))
      if (locks) expect((await tabState(page)).states).toEqual(['open'])
    }
    expect(hub.stats().connections).toBe(1)
    await context.close()
    await expect.poll(() => hub.stats().connections).toBe(0)
  })
})
