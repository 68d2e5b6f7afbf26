/**
 * The browser's own EventSource (headless Chromium) against the node adapter: every
 * payload arrives exactly as published, and a dropped connection resumes exactly.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createHub } from '@rt/server'
import { toNodeHandler } from '@rt/server/node'
import type { Page } from 'playwright-core'
import { afterAll, afterEach, expect, test } from 'vitest'
import { type Chromium, launchChromium } from './support/browser.js'
import { PAYLOAD_TYPES, PAYLOADS } from './support/payloads.js'
import { type Running, serveListener } from './support/servers.js'

interface Received {
  readonly type: string
  readonly data: string
  readonly lastEventId: string
}

/** What the page keeps on `window`. */
interface PageState {
  events: Received[]
  control: Received[]
  opens: number
  errors: number
}

/**
 * Opens `/events?topics=<topics>` with the native EventSource and records every event of
 * the types listed in `types` (a JSON array) into `window.rt`. The raw `data` strings are
 * kept: they are ASCII-safe JSON, so nothing is lost on the way back to the test.
 */
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>rt conformance</title></head><body><script>
  const params = new URLSearchParams(location.search)
  const state = { events: [], control: [], opens: 0, errors: 0 }
  window.rt = state
  const source = new EventSource('/events?topics=' + encodeURIComponent(params.get('topics')))
  const record = (into) => (e) => into.push({ type: e.type, data: e.data, lastEventId: e.lastEventId })
  for (const type of JSON.parse(params.get('types'))) source.addEventListener(type, record(state.events))
  for (const type of ['rt.connected', 'rt.reset', 'rt.closing']) source.addEventListener(type, record(state.control))
  source.onopen = () => { state.opens++ }
  source.onerror = () => { state.errors++ }
</script></body></html>`

// Launched by the first test that needs it, so a missing browser fails every test by name.
let launching: Promise<Chromium> | undefined
const chromium = () => {
  launching ??= launchChromium()
  return launching
}
afterAll(async () => {
  const launched = await launching?.catch(() => undefined)
  await launched?.close()
})

const cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

/** A hub served with the node adapter at /events, and the test page at /. */
async function start() {
  const hub = createHub({ retryMs: 50 })
  const handler = toNodeHandler(hub)
  const streamRequests: Array<string | undefined> = []
  const server: Running = await serveListener((req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith('/events')) {
      const id = req.headers['last-event-id']
      streamRequests.push(Array.isArray(id) ? id.join(',') : id)
      void handler(req, res)
      return
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
    res.end(PAGE)
  })
  cleanup.push(
    () => server.close(),
    () => hub.close(),
  )
  const query = new URLSearchParams({ topics: 'conf', types: JSON.stringify(PAYLOAD_TYPES) })
  const opened = await (await chromium()).open(`${server.origin}/?${query}`)
  cleanup.push(() => opened.close())
  return { hub, server, streamRequests, ...opened }
}

const state = (page: Page) => page.evaluate(() => (window as unknown as { rt: PageState }).rt)

/** Waits until the page has seen at least this many application and control events. */
function waitFor(page: Page, what: string, counts: { events: number; control: number }) {
  return page
    .waitForFunction(
      ({ events, control }) => {
        const rt = (window as unknown as { rt?: PageState }).rt
        return rt !== undefined && rt.events.length >= events && rt.control.length >= control
      },
      counts,
      { timeout: 10_000, polling: 20 },
    )
    .catch(async (error: unknown) => {
      const seen = await state(page).catch(() => undefined)
      throw new Error(`timed out in Chromium waiting for ${what}; page state: ${JSON.stringify(seen)?.slice(0, 500)}`, {
        cause: error,
      })
    })
}

function expectExactly(received: readonly Received[], ids: readonly string[]) {
  expect(received.map((e) => e.lastEventId)).toEqual(ids)
  received.forEach((event, i) => {
    const payload = PAYLOADS[i] as (typeof PAYLOADS)[number]
    expect(event.type, payload.name).toBe(payload.type)
    const envelope = JSON.parse(event.data) as { topic: string; ts: number; data: unknown }
    expect(Object.keys(envelope), payload.name).toEqual(['topic', 'ts', 'data'])
    expect(envelope.topic).toBe('conf')
    expect(envelope.data, payload.name).toEqual(payload.data)
    if (typeof payload.data === 'string') expect(envelope.data, payload.name).toBe(payload.data)
  })
}

test('the native EventSource receives every payload exactly as published', async () => {
  const { hub, page, problems } = await start()
  await waitFor(page, 'rt.connected', { events: 0, control: 1 })
  const ids: string[] = []
  for (const { type, data } of PAYLOADS) ids.push(await hub.publish({ type, topic: 'conf', data }))
  await waitFor(page, 'every payload', { events: PAYLOADS.length, control: 1 })
  const received = await state(page)
  expect(received.events).toHaveLength(PAYLOADS.length)
  expectExactly(received.events, ids)
  expect(received.control.map((e) => e.type)).toEqual(['rt.connected'])
  expect(received.errors).toBe(0)
  expect(problems).toEqual([])
})

test('after the server drops the connection, it resumes with Last-Event-ID and gets the rest exactly once', async () => {
  const { hub, server, page, streamRequests } = await start()
  await waitFor(page, 'rt.connected', { events: 0, control: 1 })
  const split = 10
  const ids: string[] = []
  for (const { type, data } of PAYLOADS.slice(0, split)) ids.push(await hub.publish({ type, topic: 'conf', data }))
  await waitFor(page, 'the first batch', { events: split, control: 1 })

  // Published in the same tick as the drop: only the resume can deliver it.
  const next = PAYLOADS[split] as (typeof PAYLOADS)[number]
  ids.push(await hub.publish({ type: next.type, topic: 'conf', data: next.data }))
  server.server.closeAllConnections()
  for (const { type, data } of PAYLOADS.slice(split + 1)) ids.push(await hub.publish({ type, topic: 'conf', data }))

  await waitFor(page, 'every payload after the resume', { events: PAYLOADS.length, control: 2 })
  const received = await state(page)
  expect(received.events).toHaveLength(PAYLOADS.length)
  expectExactly(received.events, ids)
  expect(streamRequests).toEqual([undefined, ids[split - 1]])
  expect(received.opens).toBe(2)
  expect(received.errors).toBeGreaterThanOrEqual(1)
  // Per the spec, an event without an id reports the last id seen.
  expect(received.control.map((e) => e.type)).toEqual(['rt.connected', 'rt.connected'])
  expect(received.control[1]?.lastEventId).toBe(ids[split - 1])
})
