/**
 * Cross-origin use in real Chromium: a page of one origin streams (EventSource with
 * credentials) and acknowledges (JSON POST after a preflight) to an endpoint on another
 * origin that lists it in `origins`; a page of an origin not listed can neither read the
 * stream nor get an ack through, even with the forms of request that need no preflight.
 */
import { createHub, type Hub, type RtRequest } from '@rt/server'
import { toNodeHandler } from '@rt/server/node'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { type Chromium, launchChromium } from './support/browser.js'
import { type Running, serveListener } from './support/servers.js'

interface Ack {
  userId: string | undefined
  ids: readonly string[]
  verified: boolean
}

const PAGE = '<!doctype html><html><body>page</body></html>'
let chromium: Chromium
const running: Running[] = []
const hubs: Hub[] = []

function authenticate(req: RtRequest) {
  const session = /(?:^|;\s*)session=([^;]+)/.exec(req.headers.get('cookie') ?? '')?.[1]
  return session === undefined ? null : { userId: session }
}

async function serve(listener: Parameters<typeof serveListener>[0]): Promise<Running> {
  const server = await serveListener(listener)
  running.push(server)
  return server
}

/** An endpoint with cookie auth, allowing `origins`, and the acks it received. */
async function endpoint(origins: readonly string[] | undefined) {
  const hub = createHub({ authenticate, ...(origins === undefined ? {} : { origins }) })
  hubs.push(hub)
  const acks: Ack[] = []
  hub.onAck((identity, ids, meta) => {
    acks.push({ userId: identity.userId, ids, verified: meta.verified })
  })
  const server = await serve(toNodeHandler(hub))
  return { hub, acks, server }
}

beforeAll(async () => {
  chromium = await launchChromium()
})

afterAll(async () => {
  await chromium?.close()
  for (const hub of hubs) await hub.close()
  for (const server of running) await server.close()
})

/** Opens a page of `pageOrigin` in a context holding the session cookie for `endpointUrl`. */
async function pageWithCookie(pageOrigin: string, endpointUrl: string) {
  const opened = await chromium.open(`${pageOrigin}/`)
  await opened.page.context().addCookies([{ name: 'session', value: 'u1', url: endpointUrl }])
  return opened
}

test('an allowed origin streams with credentials and acknowledges after a preflight', async () => {
  const app = await serve((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE))
  const { hub, acks, server } = await endpoint([app.origin])
  const { page, close } = await pageWithCookie(app.origin, server.url)

  await page.evaluate((url) => {
    const state = { connected: false, received: [] as string[] }
    ;(window as unknown as { rt: typeof state }).rt = state
    const source = new EventSource(`${url}?topics=a`, { withCredentials: true })
    source.addEventListener('rt.connected', () => {
      state.connected = true
    })
    source.addEventListener('m', (event) => state.received.push((event as MessageEvent).lastEventId))
  }, server.url)
  await page.waitForFunction(() => (window as unknown as { rt: { connected: boolean } }).rt.connected)
  expect(hub.stats().users).toEqual({ u1: 1 })

  const id = await hub.publish({ type: 'm', topic: 'a', data: 1 })
  await page.waitForFunction(() => (window as unknown as { rt: { received: string[] } }).rt.received.length === 1)
  const status = await page.evaluate(
    async ({ url, id }) => {
      const res = await fetch(url, {
        method: 'POST',
        credentials: 'include',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ack: [id] }),
      })
      return res.status
    },
    { url: server.url, id },
  )
  expect(status).toBe(204)
  expect(acks).toEqual([{ userId: 'u1', ids: [id], verified: true }])
  await close()
})

test('an origin not allowed cannot read the stream nor get an ack through, preflighted or not', async () => {
  const evil = await serve((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE))
  const { hub, acks, server } = await endpoint(['https://app.example'])
  const id = await hub.publish({ type: 'm', topic: 'a', data: 1 })
  const { page, close } = await pageWithCookie(evil.origin, server.url)

  const outcome = await page.evaluate(
    async ({ url, id }) => {
      const body = JSON.stringify({ ack: [id] })
      const attempts: Record<string, string> = {}
      const attempt = async (name: string, init: RequestInit) => {
        try {
          attempts[name] = String((await fetch(url, { credentials: 'include', ...init })).status)
        } catch {
          attempts[name] = 'blocked'
        }
      }
      // A JSON ack needs a preflight, which the endpoint refuses.
      await attempt('json', { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      // Simple requests go out without one: the endpoint must refuse them itself.
      await attempt('text', { method: 'POST', mode: 'no-cors', body })
      // A resume acknowledges cumulatively: an <img> or a no-cors GET would do.
      const resume = `${url}?topics=a&transport=poll&timeout=0&lastEventId=${encodeURIComponent(id)}`
      attempts.resume = String((await fetch(resume, { mode: 'no-cors', credentials: 'include' })).status)
      const form = new URLSearchParams({ ack: id })
      await attempt('form', { method: 'POST', mode: 'no-cors', body: form })
      const stream = await new Promise<string>((resolve) => {
        const source = new EventSource(`${url}?topics=a`, { withCredentials: true })
        source.onopen = () => resolve('open')
        source.onerror = () => {
          source.close()
          resolve('error')
        }
      })
      return { attempts, stream }
    },
    { url: server.url, id },
  )
  expect(outcome).toEqual({
    attempts: { json: 'blocked', text: '0', resume: '0', form: '0' },
    stream: 'error',
  })
  // The requests that went out reached nothing: no ack, no cumulative ack, no stream.
  expect(acks).toEqual([])
  expect(hub.stats().connections).toBe(0)
  await close()
})
