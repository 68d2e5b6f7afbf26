/**
 * `toNodeHandler` on `node:http2`: 20 streams of one Chromium context multiplexed on one
 * TLS connection (HTTP/1.1 would stop at six per origin), and the same over cleartext h2c
 * from a Node client, with long-poll, acks, and streams that end or are abandoned early.
 */
import { once } from 'node:events'
import http2, { type ClientHttp2Session, type Http2Server, type Http2Session } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { createHub, type Hub } from '@rt/server'
import { type NodeRequest, type NodeResponse, toNodeHandler } from '@rt/server/node'
import { afterEach, expect, test } from 'vitest'
import { launchChromium } from './support/browser.js'
import { bundleClient } from './support/bundle.js'
import { selfSignedCertificate } from './support/tls.js'

type Events = { n: number }

const STREAMS = 20

/** Opens STREAMS clients in one page and records what each receives. */
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>rt over HTTP/2</title></head><body><script type="module">
  import { createClient } from '/client.js'
  window.rt = { received: [], open: 0 }
  for (let i = 0; i < ${STREAMS}; i++) {
    const received = []
    window.rt.received.push(received)
    const client = createClient({ url: '/events', topics: ['room'] })
    client.on('n', (n) => received.push(n))
    client.onState((state) => { if (state === 'open') window.rt.open++ })
  }
</script></body></html>`

interface Served {
  readonly origin: string
  /** HTTP versions of the stream requests, and the sessions (connections) that carried them. */
  readonly versions: string[]
  readonly sessions: Set<Http2Session>
  close(): Promise<void>
}

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function listen(server: Http2Server, scheme: 'http' | 'https', hub: Hub<Events>, page?: string): Promise<Served> {
  const events = toNodeHandler(hub)
  const versions: string[] = []
  const sessions = new Set<Http2Session>()
  const open = new Set<Http2Session>()
  server.on('session', (session: Http2Session) => {
    open.add(session)
    session.once('close', () => open.delete(session))
  })
  server.on('request', (req: NodeRequest, res: NodeResponse) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path === '/events') {
      if (req.method === 'GET') {
        versions.push(req.httpVersion)
        if ('stream' in req) sessions.add(req.stream.session as Http2Session)
      }
      return void events(req, res)
    }
    const [type, body] = path === '/client.js' ? ['text/javascript', page ?? ''] : ['text/html', PAGE]
    res.writeHead(200, { 'content-type': `${type}; charset=utf-8` })
    res.end(body)
  })
  server.listen(0, '127.0.0.1')
  return once(server, 'listening').then(() => ({
    origin: `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    versions,
    sessions,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const session of open) session.destroy()
      await closed
    },
  }))
}

async function publish(hub: Hub<Events>, from: number, count: number): Promise<void> {
  for (let n = from; n < from + count; n++) await hub.publish({ type: 'n', topic: 'room', data: n })
}

test('20 streams from one browser context share one HTTP/2 connection and all receive events', async () => {
  const hub = createHub<Events>({ retryMs: 50 })
  const { key, cert } = selfSignedCertificate()
  const served = await listen(
    http2.createSecureServer({ key, cert, allowHTTP1: true }),
    'https',
    hub,
    await bundleClient(),
  )
  cleanups.push(
    () => hub.close(),
    () => served.close(),
  )
  const chromium = await launchChromium()
  cleanups.push(() => chromium.close())
  const { page, problems } = await chromium.open(`${served.origin}/`, { ignoreHTTPSErrors: true })

  await page.waitForFunction((n) => (window as unknown as { rt: { open: number } }).rt.open === n, STREAMS)
  expect(hub.stats().connections).toBe(STREAMS)
  expect(served.versions).toEqual(Array(STREAMS).fill('2.0'))
  expect(served.sessions.size).toBe(1)

  await publish(hub, 0, 5)
  await page.waitForFunction(() =>
    (window as unknown as { rt: { received: number[][] } }).rt.received.every((r) => r.length >= 5),
  )
  const received = await page.evaluate(() => (window as unknown as { rt: { received: number[][] } }).rt.received)
  expect(received).toEqual(Array(STREAMS).fill([0, 1, 2, 3, 4]))
  expect(problems).toEqual([])
})

/** One SSE stream over an h2c session, its text collected as it arrives. */
function openStream(session: ClientHttp2Session, path: string, headers: Record<string, string> = {}) {
  const req = session.request({ ':path': path, accept: 'text/event-stream', ...headers })
  let text = ''
  req.setEncoding('utf8')
  req.on('data', (chunk: string) => {
    text += chunk
  })
  const response = once(req, 'response').then(([head]) => head as http2.IncomingHttpHeaders)
  return { req, response, text: () => text }
}

async function until(check: () => boolean, what: string): Promise<void> {
  await expect.poll(check, { timeout: 10_000, message: what }).toBe(true)
}

test('h2c from a Node client: 20 streams on one session, long-poll and acks, streams that end early', async () => {
  const acked: string[] = []
  let gate: Promise<void> | undefined
  const hub = createHub<Events>({
    authenticate: async () => {
      await gate
      return { userId: 'u1' }
    },
  })
  hub.onAck((_identity, ids, meta) => {
    // Not the cumulative ack a resume implies.
    if (!meta.cumulative) acked.push(...ids)
  })
  const served = await listen(http2.createServer(), 'http', hub)
  cleanups.push(
    () => hub.close(),
    () => served.close(),
  )
  const session = http2.connect(served.origin)
  cleanups.push(async () => {
    session.destroy()
  })

  const streams = Array.from({ length: STREAMS }, () => openStream(session, '/events?topics=room'))
  const heads = await Promise.all(streams.map((s) => s.response))
  for (const head of heads) {
    expect(head[':status']).toBe(200)
    expect(head['content-type']).toBe('text/event-stream; charset=utf-8')
    // Connection-specific headers are illegal in HTTP/2.
    for (const name of ['connection', 'keep-alive', 'transfer-encoding']) expect(head[name]).toBeUndefined()
  }
  await until(() => streams.every((s) => s.text().includes('event: rt.connected')), 'every stream opened')
  expect(hub.stats().connections).toBe(STREAMS)
  expect(served.sessions.size).toBe(1)
  await publish(hub, 0, 3)
  await until(() => streams.every((s) => (s.text().match(/^event: n$/gm) ?? []).length === 3), 'three events each')
  const ids = [...(streams[0]?.text() ?? '').matchAll(/^id: (.+)\nevent: n$/gm)].map((m) => m[1] as string)
  expect(ids).toHaveLength(3)

  // A stream the client resets is released on the server.
  for (const stream of streams.slice(0, 5)) stream.req.close(http2.constants.NGHTTP2_CANCEL)
  await until(() => hub.stats().connections === STREAMS - 5, 'reset streams released')

  // Long-poll over the same session resumes from an id.
  const poll = session.request({ ':path': `/events?topics=room&transport=poll&timeout=1000&lastEventId=${ids[0]}` })
  poll.setEncoding('utf8')
  let body = ''
  poll.on('data', (chunk: string) => {
    body += chunk
  })
  await once(poll, 'end')
  expect((JSON.parse(body) as { events: { data: number }[] }).events.map((e) => e.data)).toEqual([1, 2])

  // Acks: a JSON POST on the same session.
  const post = session.request({ ':method': 'POST', ':path': '/events', 'content-type': 'application/json' })
  post.end(JSON.stringify({ ack: ids }))
  const [head] = (await once(post, 'response')) as [http2.IncomingHttpHeaders]
  expect(head[':status']).toBe(204)
  post.resume()
  await until(() => acked.length === 3, 'acks reached onAck')
  expect(acked).toEqual(ids)

  // A stream the client abandons before the hub answers is never opened, nor leaked.
  let release: () => void = () => {}
  gate = new Promise((resolve) => {
    release = resolve
  })
  const before = hub.stats().connections
  const abandoned = openStream(session, '/events?topics=room')
  await until(() => served.versions.length === STREAMS + 1, 'the request reached the server')
  abandoned.req.close(http2.constants.NGHTTP2_CANCEL)
  await once(abandoned.req, 'close')
  release()
  gate = undefined
  const late = openStream(session, '/events?topics=room')
  await until(() => late.text().includes('event: rt.connected'), 'a later stream opens')
  await until(() => hub.stats().connections === before + 1, 'only the later stream is counted')
  expect(served.sessions.size).toBe(1)
})
