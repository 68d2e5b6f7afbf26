/**
 * The notifications example (Next.js App Router, `next build` output) in real headless
 * Chromium: an admin's form reaches exactly the targeted bells; the server-rendered list
 * hydrates without an empty state, without a refetch and without losing an insert made
 * between the render and hydration; the route streams without buffering; on MongoDB (the
 * wire-level simulator) inserts made while the server was down arrive once each after it
 * starts again, from the persisted resume token, and a standalone server is refused.
 * Writes the screenshots shown in examples/notifications/README.md and docs/examples.md
 * (`RT_UPDATE_SCREENSHOTS=1`; see support/screenshots.ts).
 */
import { join } from 'node:path'
import { MongoClient, ObjectId } from 'mongodb'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest'
import { buildIfChanged } from '../examples/notifications/server/build.js'
import { type MongoSim, startMongoSim } from '../packages/server/test/mongo-sim/index.js'
import { type Chromium, launchChromium } from './support/browser.js'
import {
  logIn,
  type NotificationsProcess,
  send,
  sessionOf,
  snapshotCounts,
  startNotificationsProcess,
} from './support/notifications-process.js'
import { saveScreenshot } from './support/screenshots.js'
import { openSse } from './support/sse.js'

const WAIT = { timeout: 20_000 }
const SHOTS = 'examples/notifications/screenshots'

let chromium: Chromium
const cleanups: (() => Promise<unknown>)[] = []
// `next build` once per source change (about 25 s on two cores), here rather than inside
// the first test, so test times are the app's own.
beforeAll(() => buildIfChanged(join(import.meta.dirname, '..', 'examples', 'notifications'), () => {}), 180_000)
beforeAll(async () => {
  chromium = await launchChromium()
}, 60_000)
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
})
let sim: MongoSim | undefined
afterAll(async () => {
  await chromium?.close()
  await sim?.close()
})

async function server(options: Parameters<typeof startNotificationsProcess>[0] = {}): Promise<NotificationsProcess> {
  const running = await startNotificationsProcess(options)
  cleanups.push(() => running.stop())
  return running
}

async function context(width: number, height: number): Promise<BrowserContext> {
  const ctx = await chromium.context({ viewport: { width, height } })
  cleanups.push(() => ctx.close())
  return ctx
}

/** Records, from before any script runs, every notification title the page ever showed. */
async function recordTitles(ctx: BrowserContext): Promise<void> {
  await ctx.addInitScript(() => {
    const seen = new Set<string>()
    ;(window as unknown as { seenTitles: Set<string> }).seenTitles = seen
    new MutationObserver(() => {
      for (const node of document.querySelectorAll('[data-notification] .title')) seen.add(node.textContent ?? '')
    }).observe(document, { childList: true, subtree: true, characterData: true })
  })
}

const seenTitles = (page: Page) =>
  page.evaluate(() => [...(window as unknown as { seenTitles: Set<string> }).seenTitles])

async function unread(page: Page): Promise<number> {
  const badge = await page.$('[data-unread-count]')
  return badge === null ? 0 : Number(await badge.getAttribute('data-unread-count'))
}

function waitForUnread(page: Page, count: number) {
  return page.waitForFunction(
    (n) => {
      const badge = document.querySelector('[data-unread-count]')
      return (badge === null ? 0 : Number(badge.getAttribute('data-unread-count'))) === n
    },
    count,
    WAIT,
  )
}

/** How many list rows show notification `id` (on the notifications page). */
const rows = (page: Page, id: string) => page.$$eval(`[data-list] [data-notification="${id}"]`, (n) => n.length)

/** Sends through the admin form, as an admin would. */
async function sendWithForm(
  admin: Page,
  form: { to: 'user' | 'role'; target: string; title: string; body: string; level: string },
): Promise<void> {
  await admin.click(`fieldset.segmented label:has-text("${form.to === 'user' ? 'A user' : 'A role'}")`)
  await admin.selectOption(`select[data-target="${form.to}"]`, form.target)
  await admin.fill('input[name="title"]', form.title)
  await admin.fill('textarea[name="body"]', form.body)
  await admin.click(`label.level-${form.level}`)
  await admin.click('[data-send]')
  await admin.waitForSelector('[data-result="ok"]', WAIT)
}

test('memory: the admin form reaches the targeted user live, and only them; a role reaches its users', async () => {
  const app = await server()
  const [adminCtx, aliceCtx, bobCtx] = [await context(1280, 860), await context(1280, 800), await context(375, 760)]
  await recordTitles(bobCtx)
  const admin = await logIn(adminCtx, app.origin, 'ada')
  const alice = await logIn(aliceCtx, app.origin, 'alice')
  const bob = await logIn(bobCtx, app.origin, 'bob')
  await admin.waitForSelector('[data-admin-form]', WAIT)
  const [aliceBefore, bobBefore] = [await unread(alice), await unread(bob)]
  expect(aliceBefore).toBe(3)
  expect(bobBefore).toBe(2)
  // Every stream is up before anything is sent: an event after this point is live.
  await waitForConnections(app, 3)

  // To Alice alone.
  await sendWithForm(admin, {
    to: 'user',
    target: 'alice',
    title: 'Deploy finished',
    body: 'Version 2.4 is live on production. Thanks for the quick review!',
    level: 'success',
  })
  await waitForUnread(alice, aliceBefore + 1)
  await alice.waitForSelector('[data-list] [data-notification] .title:text-is("Deploy finished")', WAIT)

  // To every user in support: Bob. It arrives on the same stream that would have carried
  // Alice's notification, after it, so Bob's check below is not vacuous.
  await sendWithForm(admin, {
    to: 'role',
    target: 'support',
    title: 'Support rota updated',
    body: 'Weekend cover is now split between two people. See the new rota.',
    level: 'warning',
  })
  await waitForUnread(bob, bobBefore + 1)
  await bob.waitForSelector('[data-list] .title:text-is("Support rota updated")', WAIT)
  const bobSaw = await seenTitles(bob)
  expect(bobSaw).toContain('Support rota updated')
  expect(bobSaw).not.toContain('Deploy finished')
  expect(await unread(bob)).toBe(bobBefore + 1)
  // And Alice is not in support.
  expect(await unread(alice)).toBe(aliceBefore + 1)
  expect(await alice.$$('[data-list] .title:text-is("Support rota updated")')).toHaveLength(0)

  // Mark read: the count goes down in this tab and in another tab of Alice's.
  const aliceTab2 = await aliceCtx.newPage()
  await aliceTab2.goto(`${app.origin}/notifications`)
  await waitForUnread(aliceTab2, aliceBefore + 1)
  await waitForConnections(app, 4)
  await alice.click('[data-list] [data-notification][data-read="false"] .mark')
  await waitForUnread(alice, aliceBefore)
  await waitForUnread(aliceTab2, aliceBefore)
  await aliceTab2.close()

  // Screenshots: Alice's bell open (desktop), Bob's (phone), the admin form.
  await alice.click('button.bell')
  await alice.waitForSelector('[data-bell-panel]', WAIT)
  await saveScreenshot(alice, 'notifications-bell-desktop', `${SHOTS}/bell-desktop.png`)
  await bob.click('button.bell')
  await bob.waitForSelector('[data-bell-panel]', WAIT)
  await saveScreenshot(bob, 'notifications-bell-mobile', `${SHOTS}/bell-mobile.png`)
  await admin.fill('input[name="title"]', 'Office closed on Friday')
  await admin.fill('textarea[name="body"]', 'The office is closed for the holiday; remote work as usual.')
  await admin.click('fieldset.segmented label:has-text("A role")')
  await admin.selectOption('select[data-target="role"]', 'engineering')
  await saveScreenshot(admin, 'notifications-admin', `${SHOTS}/admin.png`)
}, 90_000)

/** Waits until the hub has `count` open streams. */
async function waitForConnections(app: NotificationsProcess, count: number): Promise<void> {
  const connections = async () =>
    ((await (await fetch(`${app.origin}/api/health`)).json()) as { connections: number }).connections
  await expect.poll(connections, WAIT).toBeGreaterThanOrEqual(count)
}

test('hydration: the server-rendered list never shows empty, is not fetched again, and an insert made before hydration appears once', async () => {
  const app = await server()
  const alice = await sessionOf(app.origin, 'alice')
  const admin = await sessionOf(app.origin, 'ada')

  // The server's HTML already holds the three notifications.
  const html = await (await fetch(`${app.origin}/notifications`, { headers: { cookie: alice } })).text()
  expect(html.match(/data-notification="/g)).toHaveLength(3)
  expect(html).not.toContain('data-empty')
  expect(await snapshotCounts(app.origin)).toEqual({ page: 1, api: 0 })

  const ctx = await context(1280, 800)
  await ctx.addCookies([{ name: 'notif_session', value: alice.split('=')[1] as string, url: app.origin }])
  // From before any script: whether the empty state ever appeared, and, from the moment the
  // three server-rendered rows are parsed, the fewest rows and the most copies of one row
  // ever on screen.
  await ctx.addInitScript(() => {
    const w = window as unknown as {
      watch: { minRows: number; maxCopies: number; empty: boolean; checks: number; armed: boolean }
    }
    w.watch = { minRows: Number.POSITIVE_INFINITY, maxCopies: 0, empty: false, checks: 0, armed: false }
    const check = () => {
      if (document.querySelector('[data-empty]') !== null) w.watch.empty = true
      const ids = [...document.querySelectorAll('[data-list] [data-notification]')].map((n) =>
        n.getAttribute('data-notification'),
      )
      if (ids.length >= 3) w.watch.armed = true
      if (!w.watch.armed) return
      w.watch.checks++
      w.watch.minRows = Math.min(w.watch.minRows, ids.length)
      const copies = new Map<string | null, number>()
      for (const id of ids) copies.set(id, (copies.get(id) ?? 0) + 1)
      w.watch.maxCopies = Math.max(w.watch.maxCopies, ...copies.values())
    }
    new MutationObserver(check).observe(document, { childList: true, subtree: true, attributes: true })
  })
  const page = await ctx.newPage()
  const fetched: string[] = []
  page.on('request', (request) => {
    if (new URL(request.url()).pathname.startsWith('/api/notifications')) fetched.push(request.url())
  })
  // Hold every script chunk: React cannot hydrate until they are released.
  let release = () => {}
  const released = new Promise<void>((resolve) => {
    release = resolve
  })
  let held = 0
  await page.route('**/_next/static/chunks/**', async (route) => {
    held++
    await released
    await route.continue()
  })
  // The page's own scripts block the parser, so wait for the rows rather than for an event.
  await page.goto(`${app.origin}/notifications`, { waitUntil: 'commit' })
  await page.waitForSelector('[data-list] [data-notification]:nth-child(3)', { ...WAIT, state: 'attached' })
  await expect.poll(() => held, WAIT).toBeGreaterThan(0)
  expect(await page.$$('[data-list] [data-notification]')).toHaveLength(3)
  expect(await page.evaluate(() => (window as unknown as { watch: { armed: boolean } }).watch.armed)).toBe(true)

  // Between the server render and hydration: a new notification for Alice.
  const id = await send(app.origin, admin, { title: 'Inserted before hydration', to: { userId: 'alice' } })
  release()
  await page.waitForSelector(`[data-list] [data-notification="${id}"]`, WAIT)
  await waitForUnread(page, 4)
  // One more after hydration: when it is on screen, anything the first could still cause is too.
  const after = await send(app.origin, admin, { title: 'After hydration', to: { userId: 'alice' } })
  await page.waitForSelector(`[data-list] [data-notification="${after}"]`, WAIT)
  expect(await rows(page, id)).toBe(1)
  expect(await rows(page, after)).toBe(1)
  expect(await page.$$('[data-list] [data-notification]')).toHaveLength(5)

  const watch = await page.evaluate(() => (window as unknown as { watch: object }).watch)
  expect(watch).toMatchObject({ minRows: 3, maxCopies: 1, empty: false, armed: true })
  expect((watch as { checks: number }).checks).toBeGreaterThan(2)
  // The browser's list was rendered once, on the server, and never fetched by the page.
  expect(fetched).toEqual([])
  expect(await snapshotCounts(app.origin)).toEqual({ page: 2, api: 0 })
}, 60_000)

test('the Next.js route streams without buffering: an event reaches the client within 200 ms of the insert', async () => {
  const app = await server()
  const bob = await sessionOf(app.origin, 'bob')
  const admin = await sessionOf(app.origin, 'ada')
  const stream = await openSse(`${app.origin}/events?topics=user:bob`, { headers: { cookie: bob } })
  cleanups.push(async () => stream.close())
  expect(stream.status).toBe(200)
  expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/)
  await stream.until((events) => events.some((e) => e.event === 'rt.connected'), 10_000)
  // The best of five: one slow round on a busy machine says nothing about buffering, while
  // a buffering route (a compressor, a proxy) delays every one of them.
  const delays: number[] = []
  for (let i = 0; i < 5; i++) {
    const before = stream.events.length
    const started = performance.now()
    await send(app.origin, admin, { title: `Ping ${i}`, to: { userId: 'bob' } })
    await stream.until(
      (events) => events.slice(before).some((e) => e.event === 'notification.new' && e.data.includes(`Ping ${i}`)),
      10_000,
    )
    delays.push(performance.now() - started)
  }
  console.log(`insert -> event through the Next.js route, ms: ${delays.map((d) => d.toFixed(1)).join(', ')}`)
  expect(Math.min(...delays)).toBeLessThan(200)
}, 60_000)

async function mongoUri(database: string): Promise<string> {
  sim ??= await startMongoSim()
  const uri = new URL(sim.uri)
  uri.pathname = `/${database}_${process.pid}`
  return uri.toString()
}

test('mongodb: inserts made while the server was down arrive once each after it starts, from the stored resume token', async () => {
  const uri = await mongoUri('notifications_e2e')
  let app = await server({ env: { MONGODB_URI: uri } })
  const port = app.port
  const ctx = await context(1280, 800)
  const alice = await logIn(ctx, app.origin, 'alice')
  await alice.waitForSelector('[data-list] [data-notification]', WAIT)
  const before = await unread(alice)
  const rowsBefore = (await alice.$$('[data-list] [data-notification]')).length
  // A live insert first, so the stream is known to be up and the token store has a position.
  const admin = await sessionOf(app.origin, 'ada')
  const live = await send(app.origin, admin, { title: 'While running', to: { userId: 'alice' } })
  await alice.waitForSelector(`[data-list] [data-notification="${live}"]`, WAIT)

  await app.stop()
  // Straight into MongoDB, as another program would, while no server runs.
  const client = new MongoClient(uri)
  cleanups.push(() => client.close())
  // Four in this app's shape; the last as a script that knows only the fields would write
  // it, with the driver's ObjectId and no `id` of ours.
  const docs = Array.from({ length: 5 }, (_, i) => ({
    _id: i < 4 ? `offline-${i}` : new ObjectId(),
    ...(i < 4 ? { id: `offline-${i}` } : {}),
    title: `Written while down #${i}`,
    body: 'Inserted by a script while the server was stopped.',
    level: 'info',
    to: { userId: 'alice' },
    from: 'script',
    createdAt: Date.now() + i,
  }))
  await client.db().collection<{ _id: string | ObjectId }>('notifications').insertMany(docs)
  const ids = docs.map((doc) => String(doc._id))

  app = await server({ port, env: { MONGODB_URI: uri } })
  for (const id of ids) await alice.waitForSelector(`[data-list] [data-notification="${id}"]`, WAIT)
  await waitForUnread(alice, before + 6)
  // One more live insert: once it is on screen, any duplicate of the five would be too.
  const last = await send(app.origin, admin, { title: 'After the restart', to: { userId: 'alice' } })
  await alice.waitForSelector(`[data-list] [data-notification="${last}"]`, WAIT)
  for (const id of ids) expect(await rows(alice, id)).toBe(1)
  expect(await rows(alice, live)).toBe(1)
  expect(await alice.$$('[data-list] [data-notification]')).toHaveLength(rowsBefore + 7)
  expect(await unread(alice)).toBe(before + 7)
  // Resumed from its position in the durable log: no rt.reset, so no snapshot refetch.
  expect((await snapshotCounts(app.origin)).api).toBe(0)
  // The script's document can be marked read like any other.
  await alice.click(`[data-list] [data-notification="${ids[4]}"] .mark`)
  await waitForUnread(alice, before + 6)

  // The health page: the change stream runs, with its last token time and lag.
  const health = await ctx.newPage()
  await health.goto(`${app.origin}/health`)
  await health.waitForSelector('[data-source="notifications"][data-state="running"]', WAIT)
  await health.waitForFunction(() => document.querySelector('[data-last-token]')?.textContent !== '—', undefined, WAIT)
  const report = (await (await fetch(`${app.origin}/api/health`)).json()) as {
    status: string
    sources: { name: string; state: string; lastTokenAt?: number; lagMs?: number }[]
  }
  expect(report.status).toBe('ok')
  expect(report.sources).toEqual([expect.objectContaining({ name: 'notifications', state: 'running' })])
  expect(report.sources[0]?.lastTokenAt).toBeGreaterThan(0)
  await saveScreenshot(health, 'notifications-health', `${SHOTS}/health.png`)
}, 120_000)

test('mongodb: a standalone server (no change streams) is refused at start with what to do', async () => {
  const standalone = await startMongoSim({ setName: null })
  cleanups.push(() => standalone.close())
  const uri = new URL(standalone.uri)
  uri.pathname = '/notifications_standalone'
  await expect(server({ env: { MONGODB_URI: uri.toString() } })).rejects.toThrow(
    /standalone MongoDB server, which has no change streams.*--replSet rs0.*rs\.initiate\(\)/s,
  )
}, 60_000)
