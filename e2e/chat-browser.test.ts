/**
 * The chat example in real headless Chromium, two browser contexts as two users against
 * the real server process: live messages, ticks that follow acks and reads, the bell,
 * presence, a second tab (in memory, and on MongoDB through the wire-level simulator);
 * then the network cut and the server restarted mid-session.
 * Writes the screenshots shown in examples/chat/README.md (`RT_UPDATE_SCREENSHOTS=1`; see
 * support/screenshots.ts).
 */
import { MongoClient } from 'mongodb'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest'
import { type MongoSim, startMongoSim } from '../packages/server/test/mongo-sim/index.js'
import { type Chromium, launchChromium } from './support/browser.js'
import {
  type ChatProcess,
  logIn,
  messageTexts,
  sendAs,
  snapshotCounts,
  startChatProcess,
} from './support/chat-process.js'
import { startProxy, type TestProxy } from './support/proxies.js'
import { saveScreenshot } from './support/screenshots.js'

const WAIT = { timeout: 20_000 }
const COFFEE = 'coffee-run'

let chromium: Chromium
const cleanups: (() => Promise<unknown>)[] = []
beforeAll(async () => {
  chromium = await launchChromium()
}, 60_000)
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
})
afterAll(async () => {
  await chromium?.close()
})

async function chatServer(options: Parameters<typeof startChatProcess>[0] = {}): Promise<ChatProcess> {
  const chat = await startChatProcess(options)
  cleanups.push(() => chat.stop())
  return chat
}

/** A proxy in front of the chat for A, so the test can cut A's network for real. */
async function proxyFor(chat: ChatProcess): Promise<TestProxy> {
  const proxy = await startProxy(chat.origin)
  cleanups.push(() => proxy.close())
  return proxy
}

/**
 * Cuts A's network: new requests fail (Playwright's offline mode) and the open
 * connections die (the proxy drops them; offline mode alone leaves open streams flowing).
 */
async function cut(context: BrowserContext, page: Page, proxy: TestProxy): Promise<void> {
  await context.setOffline(true)
  proxy.drop()
  await page.waitForSelector('[data-network="offline"]', WAIT)
  await page.waitForSelector('[data-connection="reconnecting"]', WAIT)
}

async function context(width: number, height: number): Promise<BrowserContext> {
  const ctx = await chromium.context({ viewport: { width, height } })
  cleanups.push(() => ctx.close())
  return ctx
}

/** The bell's unread count (0 when the badge is hidden), once the inbox is live. */
async function bell(page: Page): Promise<number> {
  await page.waitForSelector('[data-inbox-status="live"]', WAIT)
  const badge = await page.$('[data-unread-count]')
  return badge === null ? 0 : Number(await badge.getAttribute('data-unread-count'))
}

async function waitForBell(page: Page, count: number): Promise<void> {
  await page.waitForFunction(
    (n) => {
      const live = document.querySelector('[data-inbox-status="live"]')
      const badge = document.querySelector('[data-unread-count]')
      return live !== null && (badge === null ? 0 : Number(badge.getAttribute('data-unread-count'))) === n
    },
    count,
    WAIT,
  )
}

/** The tick of the newest own message in the open conversation. */
function lastTick(page: Page, tick: 'sent' | 'delivered' | 'read') {
  return page.waitForFunction(
    (t) => {
      const rows = document.querySelectorAll('[data-open-group] .bubble-row.own')
      return rows[rows.length - 1]?.querySelector('[data-tick]')?.getAttribute('data-tick') === t
    },
    tick,
    WAIT,
  )
}

async function openGroup(page: Page, groupId: string): Promise<void> {
  await page.click(`[data-group="${groupId}"]`, WAIT)
  await page.waitForSelector(`[data-open-group="${groupId}"] [data-message]`, WAIT)
}

/**
 * `typer` types `text` (not sent) until `watcher` shows the typing line. Typing is a
 * best-effort signal that lasts 4 s on screen; on a starved machine one announcement can
 * expire before the watcher's page renders it, so up to three announcements are made (each
 * after an 8 s wait, past the client's 2 s and the server's 1 s throttle) before this fails.
 */
async function seesTyping(watcher: Page, typer: Page, text: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    // A changed value, so React sees an input event on every attempt.
    await typer.fill('.composer input', attempt % 2 === 1 ? text : `${text}.`)
    try {
      await watcher.waitForSelector('.status.typing', { timeout: 8_000 })
      break
    } catch (error) {
      if (attempt === 3) throw error
    }
  }
  await typer.fill('.composer input', text)
}

async function type(page: Page, text: string): Promise<void> {
  await page.fill('.composer input', text)
  await page.press('.composer input', 'Enter')
  await page.waitForFunction(
    (t) => {
      const texts = [...document.querySelectorAll('[data-open-group] [data-message] .text')].map((n) => n.textContent)
      return texts.includes(t)
    },
    text,
    WAIT,
  )
}

/** Started by the MongoDB run only; the chat process connects to it over the wire. */
let sim: MongoSim | undefined
afterAll(async () => {
  await sim?.close()
})

async function mongoUri(): Promise<string> {
  sim ??= await startMongoSim()
  const uri = new URL(sim.uri)
  uri.pathname = `/chat_e2e_${process.pid}`
  return uri.toString()
}

test.each(['memory', 'mongodb'] as const)(
  '%s: two users, a live message, ticks sent -> delivered -> read, the bell, presence and a second tab',
  async (mode) => {
    const uri = mode === 'mongodb' ? await mongoUri() : undefined
    const chat = await chatServer(uri === undefined ? {} : { env: { MONGODB_URI: uri } })
    const [contextA, contextB] = [await context(1280, 800), await context(375, 740)]
    const proxy = await proxyFor(chat)
    const a = await logIn(contextA, proxy.origin, 'alice')
    const b = await logIn(contextB, chat.origin, 'bob')
    await openGroup(b, COFFEE)
    // B sees A online: A's connection follows every group A is in.
    await b.waitForSelector('[data-member="alice"][data-online="yes"]', { ...WAIT, state: 'attached' })
    const unreadBefore = await bell(a)

    // A's network is cut: B's message can only be "sent", nobody acknowledged it.
    await cut(contextA, a, proxy)
    await b.waitForSelector('[data-member="alice"][data-online="no"]', { ...WAIT, state: 'attached' })
    await type(b, '@alice oat milk this time?')
    await lastTick(b, 'sent')

    // Back online: A's client receives and acks it -> delivered; A has not opened the group.
    await contextA.setOffline(false)
    await lastTick(b, 'delivered')
    await a.waitForSelector(`[data-group="${COFFEE}"] [data-unread="1"]`, WAIT)
    await waitForBell(a, unreadBefore + 1)
    expect(await b.$eval('[data-open-group] .bubble-row.own:last-child [data-tick]', (n) => n.dataset.tick)).toBe(
      'delivered',
    )

    // A opens the group -> read.
    await openGroup(a, COFFEE)
    expect(await messageTexts(a)).toContain('@alice oat milk this time?')
    await lastTick(b, 'read')
    await a.waitForSelector(`[data-group="${COFFEE}"] [data-unread]`, { ...WAIT, state: 'detached' })

    // A second tab of A: the same count and the same messages.
    const a2 = await contextA.newPage()
    await a2.goto(proxy.origin)
    await a2.waitForSelector('[data-me="alice"]', WAIT)
    await waitForBell(a2, unreadBefore + 1)
    await openGroup(a2, COFFEE)
    expect(await messageTexts(a2)).toEqual(await messageTexts(a))

    if (uri !== undefined) await viaChangeStream(uri, a)

    // B types; A sees it. Then the screenshots of both screens.
    await seesTyping(a, b, 'on my way')
    await b.press('.composer input', 'Enter')
    await a.waitForFunction(() => document.body.textContent?.includes('on my way'), undefined, WAIT)
    await a.click('.bell')
    await a.waitForSelector('.inbox-panel [data-notification]', WAIT)
    if (mode === 'memory') {
      await saveScreenshot(a, 'chat-alice-desktop', 'examples/chat/screenshots/alice-desktop.png')
      await saveScreenshot(b, 'chat-bob-mobile', 'examples/chat/screenshots/bob-mobile.png')
    }

    // The bell falls with read, and with read all, in both tabs.
    await a.click('.inbox-panel li.unread [data-action="read"]')
    await waitForBell(a, unreadBefore)
    await waitForBell(a2, unreadBefore)
    await a.click('.inbox-panel header button')
    await waitForBell(a, 0)
    await waitForBell(a2, 0)
    expect(await a.$$('.inbox-panel li.unread')).toHaveLength(0)

    // A leaves (its context closes): B sees A offline.
    await b.waitForSelector('[data-member="alice"][data-online="yes"]', { ...WAIT, state: 'attached' })
    await contextA.close()
    await b.waitForSelector('[data-member="alice"][data-online="no"]', { ...WAIT, state: 'attached' })
  },
  120_000,
)

/**
 * MongoDB mode: the chat watches its database with a change stream (seen in the
 * simulator's command log), and a message written straight to MongoDB, past the app,
 * reaches A's screen: events come from the change stream, not from the app.
 */
async function viaChangeStream(uri: string, a: Page): Promise<void> {
  const db = new URL(uri).pathname.slice(1)
  const streams = (sim as MongoSim).commands.filter(
    (c) => c.db === db && c.name === 'aggregate' && JSON.stringify(c.body.pipeline).includes('$changeStream'),
  )
  expect(streams.length).toBeGreaterThanOrEqual(1)
  expect(JSON.stringify(streams[0]?.body.pipeline)).toContain('"fullDocument":"updateLookup"')
  const client = new MongoClient(uri)
  try {
    await client.connect()
    const counter = await client
      .db(db)
      .collection<{ _id: string; seq: number }>('counters')
      .findOneAndUpdate({ _id: COFFEE }, { $inc: { seq: 1 } }, { returnDocument: 'after' })
    const seq = counter?.seq as number
    const id = `direct${seq}`
    await client.db(db).collection<{ _id: string } & Record<string, unknown>>('messages').insertOne({
      _id: id,
      id,
      groupId: COFFEE,
      seq,
      senderId: 'bob',
      text: 'written straight to MongoDB',
      createdAt: Date.now(),
    })
  } finally {
    await client.close()
  }
  await a.waitForFunction(() => document.body.textContent?.includes('written straight to MongoDB'), undefined, WAIT)
  const getMores = (sim as MongoSim).commands.filter((c) => c.db === db && c.name === 'getMore')
  expect(getMores.length).toBeGreaterThan(0)
}

test('resilience: 20 messages while A is offline arrive once, in order, without a refetch; a server restart resyncs', async () => {
  const chat = await chatServer()
  const [contextA, contextB] = [await context(1280, 800), await context(1280, 800)]
  const proxy = await proxyFor(chat)
  const a = await logIn(contextA, proxy.origin, 'alice')
  const b = await logIn(contextB, chat.origin, 'bob')
  await openGroup(a, COFFEE)
  await a.waitForSelector('[data-connection="open"]', WAIT)
  await bell(a)
  const before = await messageTexts(a)
  const snapshots = await snapshotCounts(chat.origin)

  await cut(contextA, a, proxy)
  const burst = Array.from({ length: 20 }, (_, i) => `burst ${i + 1}`)
  for (const text of burst) await sendAs(b, COFFEE, text)
  await contextA.setOffline(false)
  await a.waitForFunction(
    (n) => document.querySelectorAll('[data-open-group] [data-message]').length >= n,
    before.length + 20,
    WAIT,
  )
  await a.waitForSelector('[data-connection="open"]', WAIT)
  expect(await messageTexts(a)).toEqual([...before, ...burst])
  // One more message after the reconnect: a refetch the reconnect caused would be counted by then.
  await sendAs(b, COFFEE, 'all caught up')
  await a.waitForFunction(() => document.body.textContent?.includes('all caught up'), undefined, WAIT)
  // Resumed from its position: not one snapshot was taken again.
  expect(await snapshotCounts(chat.origin)).toEqual(snapshots)

  // The server restarts and forgets everything (in-memory mode).
  expect(await messageTexts(a)).toEqual([...before, ...burst, 'all caught up'])
  await sendAs(b, COFFEE, 'before the restart')
  await a.waitForFunction(() => document.body.textContent?.includes('before the restart'), undefined, WAIT)
  await chat.stop()
  await a.waitForSelector('[data-connection="reconnecting"]', WAIT)
  const restarted = await chatServer({ port: chat.port })
  // rt.reset -> a clean refetch: the list, the open conversation and the inbox.
  await a.waitForFunction(
    () => document.querySelectorAll('[data-open-group] [data-message]').length === 2,
    undefined,
    WAIT,
  )
  await a.waitForSelector('[data-connection="open"]', WAIT)
  expect(await messageTexts(a)).toEqual(['Flat white as usual?', 'Yes please, thank you!'])
  // Each live state follows its own backoff, so the inbox may resync a moment later.
  await expect
    .poll(() => snapshotCounts(restarted.origin), { timeout: 20_000, interval: 100 })
    .toSatisfy((counts) => counts.groups >= 1 && counts.messages >= 1 && counts.notifications >= 1)
  await a.waitForSelector('[data-inbox-status="live"]', WAIT)
  // And it is live again.
  await sendAs(b, COFFEE, 'after the restart')
  await a.waitForFunction(() => document.body.textContent?.includes('after the restart'), undefined, WAIT)
  expect(await messageTexts(a)).toEqual(['Flat white as usual?', 'Yes please, thank you!', 'after the restart'])
}, 120_000)

test('removed from a group while offline: the refused reconnect recovers with the new group list', async () => {
  const chat = await chatServer()
  const [contextA, contextB] = [await context(1280, 800), await context(1280, 800)]
  const proxy = await proxyFor(chat)
  const a = await logIn(contextA, proxy.origin, 'alice')
  const b = await logIn(contextB, chat.origin, 'bob')
  await openGroup(a, COFFEE)
  await a.waitForSelector('[data-group="design-team"]', WAIT)
  await a.waitForSelector('[data-connection="open"]', WAIT)

  await cut(contextA, a, proxy)
  const status = await b.evaluate(
    async () => (await fetch('/api/groups/design-team/members/alice', { method: 'DELETE' })).status,
  )
  expect(status).toBe(204)
  await contextA.setOffline(false)
  // Its stream asks for a group it may no longer see (403); the app refetches its groups and reconnects.
  await a.waitForSelector('[data-group="design-team"]', { ...WAIT, state: 'detached' })
  await a.waitForSelector('[data-connection="open"]', WAIT)
  await sendAs(b, COFFEE, 'still here?')
  await a.waitForFunction(() => document.body.textContent?.includes('still here?'), undefined, WAIT)
}, 120_000)
