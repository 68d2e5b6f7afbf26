/**
 * @rt/client in headless Chromium: a stream endpoint that redirects to another origin is
 * not followed (a browser's fetch shows it as an opaque redirect), so the app's token and
 * position never reach that origin, even when the other origin allows every CORS request.
 */
import type { IncomingMessage } from 'node:http'
import { afterAll, beforeAll, expect, test, vi } from 'vitest'
import { type Chromium, launchChromium } from './support/browser.js'
import { bundleClient } from './support/bundle.js'
import { type Running, serveListener } from './support/servers.js'

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>redirect</title></head><body><script type="module">
  import { createClient } from '/client.js'
  window.errors = []
  createClient({
    url: '/events',
    topics: ['t'],
    transport: new URLSearchParams(location.search).get('transport'),
    headers: { 'x-token': 'secret' },
    lastEventId: '5-0',
    onError: (error) => window.errors.push([error.code, error.status]),
  })
</script></body></html>`

let chromium: Chromium
let home: Running
let elsewhere: Running
/** What reached the other origin. */
const stolen: IncomingMessage[] = []

beforeAll(async () => {
  const script = await bundleClient()
  // Allows anything from anywhere, as a hostile origin would.
  elsewhere = await serveListener((req, res) => {
    stolen.push(req)
    const cors = {
      'access-control-allow-origin': '*',
      'access-control-allow-headers': '*, x-token, last-event-id',
      'access-control-allow-methods': 'GET, POST',
    }
    if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end()
    if (new URL(req.url ?? '/', 'http://x').searchParams.get('transport') === 'poll') {
      res.writeHead(200, { ...cors, 'content-type': 'application/json' })
      return void res.end('{"events":[],"lastEventId":"9-9","reset":false}')
    }
    res.writeHead(200, { ...cors, 'content-type': 'text/event-stream' })
    res.write('event: rt.connected\ndata: {"heartbeatMs":15000}\n\n')
  })
  home = await serveListener((req, res) => {
    const url = new URL(req.url ?? '/', home.origin)
    if (url.pathname === '/events') {
      res.writeHead(307, { location: `${elsewhere.url}${url.search}` })
      return void res.end()
    }
    if (url.pathname === '/client.js') {
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
  await home?.close()
  await elsewhere?.close()
})

for (const transport of ['sse', 'poll'] as const) {
  test(`${transport}: the redirect is reported and not followed`, async () => {
    stolen.length = 0
    const { page, close } = await chromium.open(`${home.origin}/?transport=${transport}`)
    const errors = () => page.evaluate(() => (window as unknown as { errors: unknown[][] }).errors)
    // Whichever comes first: the client's report, or a request at the other origin.
    await vi.waitFor(async () => expect((await errors()).length + stolen.length).toBeGreaterThan(0), 15_000)
    const reported = await errors()
    await close()
    expect(stolen.map((req) => [req.method, req.headers['x-token'], req.headers['last-event-id']])).toEqual([])
    // A browser hides the redirect's status: an opaque redirect says 0.
    expect(reported[0]).toEqual(['redirect', 0])
  })
}
