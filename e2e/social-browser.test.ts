/**
 * The social example in real headless Chromium against the real server process: Ana
 * follows Ben, Chloé does not. Ben's post reaches Ana live and never Chloé; Ana's like
 * reaches Ben as a notification; both vote on a poll and watch the percentages move. On
 * MongoDB (the wire-level simulator) the admin stops the change stream, posts are made,
 * the stream starts again and each post arrives once.
 * Writes the screenshots shown in examples/social/README.md (`RT_UPDATE_SCREENSHOTS=1`).
 */
import { MongoClient } from 'mongodb'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest'
import { type MongoSim, startMongoSim } from '../packages/server/test/mongo-sim/index.js'
import { type Chromium, launchChromium } from './support/browser.js'
import { saveScreenshot } from './support/screenshots.js'
import {
  cookieFor,
  feedTexts,
  logIn,
  postAs,
  type SocialProcess,
  startSocialProcess,
} from './support/social-process.js'
import { appEvents, openSse } from './support/sse.js'

const WAIT = { timeout: 20_000 }
const POLL = 'seed-poll'

let chromium: Chromium
let sim: MongoSim | undefined
const cleanups: (() => Promise<unknown>)[] = []
beforeAll(async () => {
  chromium = await launchChromium()
}, 60_000)
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
})
afterAll(async () => {
  await chromium?.close()
  await sim?.close()
})

async function social(env?: Record<string, string>): Promise<SocialProcess> {
  const app = await startSocialProcess({ env })
  cleanups.push(() => app.stop())
  return app
}

async function context(width: number, height: number): Promise<BrowserContext> {
  const ctx = await chromium.context({ viewport: { width, height } })
  cleanups.push(() => ctx.close())
  return ctx
}

async function feedLive(page: Page): Promise<void> {
  await page.waitForSelector('[data-feed-status="live"]', WAIT)
  await page.waitForSelector('[data-connection="open"]', WAIT)
}

function waitForPost(page: Page, text: string): Promise<unknown> {
  return page.waitForFunction(
    (t) => [...document.querySelectorAll('.posts .post-text')].some((n) => n.textContent === t),
    text,
    WAIT,
  )
}

/** The poll's percentages as the page shows them, once they equal `expected`. */
async function waitForPercentages(page: Page, expected: number[]): Promise<number[]> {
  const selector = `[data-post="${POLL}"] [data-option]`
  await page.waitForFunction(
    ([sel, want]) => {
      const shown = [...document.querySelectorAll(sel as string)].map((n) => Number(n.getAttribute('data-percent')))
      return JSON.stringify(shown) === JSON.stringify(want)
    },
    [selector, expected] as const,
    WAIT,
  )
  return page.$$eval(selector, (nodes) =>
    nodes.map((n) => Number((n.querySelector('.poll-percent')?.textContent ?? '').replace('%', ''))),
  )
}

test('memory: a post reaches followers only, a like notifies the author, poll percentages move on both screens', async () => {
  const app = await social()
  const [ctxA, ctxB, ctxC] = [await context(1280, 900), await context(375, 740), await context(1280, 900)]
  const a = await logIn(ctxA, app.origin, 'ana')
  const b = await logIn(ctxB, app.origin, 'ben')
  const c = await logIn(ctxC, app.origin, 'chloe')
  await Promise.all([feedLive(a), feedLive(b), feedLive(c)])

  // Ben posts from his phone; Ana (a follower) sees it live.
  const text = `Release notes are out: the feed is now live end to end (${Date.now()})`
  await b.fill('.composer textarea', text)
  await b.click('.composer button[type="submit"]')
  await waitForPost(b, text)
  await waitForPost(a, text)
  // Chloé follows Dev, not Ben: Dev's later post reaches her, Ben's never did.
  const devText = `Gary the starter survived the weekend (${Date.now()})`
  await postAs(app.origin, await cookieFor(app.origin, 'dev'), devText)
  await waitForPost(c, devText)
  expect(await feedTexts(c)).not.toContain(text)
  expect((await feedTexts(c))[0]).toBe(devText)
  expect(await feedTexts(a)).toEqual(expect.arrayContaining([text, devText]))

  // Ana likes Ben's post: Ben gets the notification (a toast, the count, the activity list).
  const postId = await a.evaluate((t) => {
    const card = [...document.querySelectorAll('[data-post]')].find(
      (n) => n.querySelector('.post-text')?.textContent === t,
    )
    return (card as HTMLElement | undefined)?.dataset.post
  }, text)
  expect(postId).toBeTypeOf('string')
  await a.click(`[data-post="${postId}"] [data-like]`)
  await b.waitForSelector('[data-toast="like"]', WAIT)
  await b.waitForSelector('[data-unseen="1"]', WAIT)
  await b.click('[data-nav="activity"]')
  const note = await b.waitForSelector('[data-notification="like"]', WAIT)
  expect(await note.textContent()).toContain(`Ana Souza liked your post “${text.slice(0, 57)}`)
  await b.click('[data-nav="feed"]')
  await a.waitForSelector(`[data-post="${postId}"] [data-like="1"]`, WAIT)

  // Ana comments on it: the count moves on Ben's card (its topic), and Ben is notified.
  await a.click(`[data-post="${postId}"] [data-comments]`)
  await a.fill(`[data-post="${postId}"] .comments input`, 'Congrats, it feels instant!')
  await a.click(`[data-post="${postId}"] .comments button[type="submit"]`)
  await a.waitForSelector(`[data-post="${postId}"] [data-comments="1"]`, WAIT)
  await b.waitForSelector(`[data-post="${postId}"] [data-comments="1"]`, WAIT)
  await b.waitForSelector('[data-toast="comment"]', WAIT)
  // Sam follows Ana: her activity panel says so.
  const follow = await fetch(`${app.origin}/api/people/ana/follow`, {
    method: 'POST',
    headers: { cookie: await cookieFor(app.origin, 'sam') },
  })
  expect(follow.status).toBe(204)
  await a.waitForSelector('.side [data-notification="follow"]', WAIT)

  // The seeded poll: 2 / 1 / 0. Both look at it (so both join post:seed-poll); Ana votes
  // Tabs -> 3 / 1 / 0 = 75 / 25 / 0; Ben votes the formatter -> 3 / 1 / 1 = 60 / 20 / 20.
  for (const page of [a, b]) {
    await page.locator(`[data-post="${POLL}"]`).scrollIntoViewIfNeeded()
    expect(await waitForPercentages(page, [67, 33, 0])).toEqual([67, 33, 0])
  }
  await a.click(`[data-post="${POLL}"] [data-option="0"]`)
  expect(await waitForPercentages(a, [75, 25, 0])).toEqual([75, 25, 0])
  expect(await waitForPercentages(b, [75, 25, 0])).toEqual([75, 25, 0])
  await b.click(`[data-post="${POLL}"] [data-option="2"]`)
  expect(await waitForPercentages(b, [60, 20, 20])).toEqual([60, 20, 20])
  expect(await waitForPercentages(a, [60, 20, 20])).toEqual([60, 20, 20])
  expect(await a.getAttribute(`[data-post="${POLL}"] [data-poll-total]`, 'data-poll-total')).toBe('5')

  // The like's notification was Ben's only: Chloé's activity stays empty.
  expect(await c.$$('[data-notification]')).toHaveLength(0)

  await a.evaluate(() => window.scrollTo(0, 0))
  await saveScreenshot(a, 'social-ana-desktop', 'examples/social/screenshots/ana-desktop.png')
  await saveScreenshot(b, 'social-ben-mobile', 'examples/social/screenshots/ben-mobile.png')

  // Chloé follows Ben: her feed takes a new snapshot with his post, and his next post
  // reaches her live (the recipients are read when each change is mapped).
  await c.click('.side [data-person="ben"] [data-follow="follow"]')
  await c.waitForSelector('.side [data-person="ben"] [data-follow="following"]', WAIT)
  await waitForPost(c, text)
  const next = `Thanks for the follow, Chloé (${Date.now()})`
  await postAs(app.origin, await cookieFor(app.origin, 'ben'), next)
  await waitForPost(c, next)
  await waitForPost(a, next)
}, 120_000)

test('mongodb: the admin stops the change stream, posts are made meanwhile, starts it again: each post arrives once', async () => {
  sim ??= await startMongoSim()
  const uri = new URL(sim.uri)
  uri.pathname = `/social_e2e_${process.pid}`
  const db = uri.pathname.slice(1)
  const app = await social({ MONGODB_URI: uri.toString() })
  const [ctxAdmin, ctxA] = [await context(1280, 900), await context(1280, 900)]
  const admin = await logIn(ctxAdmin, app.origin, 'maya')
  const a = await logIn(ctxA, app.origin, 'ana')
  await Promise.all([feedLive(admin), feedLive(a)])
  await admin.click('[data-nav="admin"]')
  await admin.waitForSelector('[data-source-state="running"]', WAIT)

  // A raw stream of Ana's as well, to count events (the UI would hide a duplicate).
  const anaCookie = await cookieFor(app.origin, 'ana')
  const stream = await openSse(`${app.origin}/events?topics=feed`, { headers: { cookie: anaCookie } })
  cleanups.push(async () => stream.close())
  await stream.until((events) => events.some((e) => e.event === 'rt.connected'), 10_000)

  await admin.click('[data-action="stop"]')
  await admin.waitForSelector('[data-source-state="stopped"]', WAIT)

  // Meanwhile: two posts through the app, one straight into MongoDB past it.
  const ben = await cookieFor(app.origin, 'ben')
  const texts = [`While the stream was off #1 (${Date.now()})`, `While the stream was off #2 (${Date.now()})`]
  const ids = [await postAs(app.origin, ben, texts[0] as string), await postAs(app.origin, ben, texts[1] as string)]
  const direct = `Written straight to MongoDB (${Date.now()})`
  const client = new MongoClient(uri.toString())
  try {
    await client.connect()
    await client
      .db(db)
      .collection<{ _id: string } & Record<string, unknown>>('posts')
      .insertOne({ _id: 'direct-1', id: 'direct-1', authorId: 'ben', text: direct, createdAt: Date.now() })
  } finally {
    await client.close()
  }
  ids.push('direct-1')
  texts.push(direct)
  // Nothing of them reached Ana yet (the stream reports only live events).
  expect(appEvents(stream.events).filter((e) => e.type === 'post.new')).toHaveLength(0)

  await admin.click('[data-action="start"]')
  await admin.waitForSelector('[data-source-state="running"]', WAIT)
  for (const t of texts) await waitForPost(a, t)
  await stream.until(
    (events) => appEvents(events).filter((e) => e.type === 'post.new').length >= texts.length,
    WAIT.timeout,
  )
  // One more after them, so a late duplicate would have arrived before it.
  const after = `After the restart (${Date.now()})`
  await postAs(app.origin, ben, after)
  await waitForPost(a, after)
  await stream.until(
    (events) => appEvents(events).some((e) => (e.data as { post?: { text?: string } }).post?.text === after),
    WAIT.timeout,
  )

  const delivered = appEvents(stream.events)
    .filter((e) => e.type === 'post.new')
    .map((e) => (e.data as { post: { id: string } }).post.id)
  for (const id of ids) expect(delivered.filter((d) => d === id)).toHaveLength(1)
  const shown = await feedTexts(a)
  for (const t of [...texts, after]) expect(shown.filter((s) => s === t)).toHaveLength(1)

  // The admin page lists the states it went through.
  await admin.waitForFunction(
    () =>
      /running,stopped,(starting,)?running$/.test(
        document.querySelector('[data-history]')?.getAttribute('data-history') ?? '',
      ),
    undefined,
    WAIT,
  )
  const history = (await admin.getAttribute('[data-history]', 'data-history')) as string
  expect(history).toMatch(/^(starting,)?running,stopped,(starting,)?running$/)

  // Broadcast: a banner on Ana's screen.
  await admin.fill(
    '.admin input[aria-label="Broadcast message"]',
    'Maintenance tonight at 22:00 UTC, back in five minutes',
  )
  await admin.click('.admin form button[type="submit"]')
  await a.waitForSelector('[data-broadcast]', WAIT)
  await admin.waitForSelector('[data-broadcast]', WAIT)
  await saveScreenshot(admin, 'social-admin', 'examples/social/screenshots/admin.png')
}, 120_000)
