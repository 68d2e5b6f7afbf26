// rt on Bun: Bun.serve with the fetch adapter at /events, POST /publish to send. Run: bun bun.ts
import { createHub } from '@rt/server'
import { toFetchHandler } from '@rt/server/fetch'

type Events = { 'message.new': { text: string } }
const hub = createHub<Events>()
const events = toFetchHandler(hub)

const server = Bun.serve({
  port: Number(process.env.PORT ?? 3000),
  idleTimeout: 0, // streams stay open; rt's heartbeats keep proxies and clients honest
  async fetch(req) {
    const { pathname } = new URL(req.url)
    if (pathname === '/events') return events(req)
    if (pathname !== '/publish' || req.method !== 'POST') return new Response(null, { status: 404 })
    return Response.json({ id: await hub.publish({ type: 'message.new', topic: 'lobby', data: await req.json() }) })
  },
})
console.log(`listening on http://localhost:${server.port}`)
