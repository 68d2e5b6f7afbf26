// rt on Deno: Deno.serve with the fetch adapter at /events, POST /publish to send. Run: deno run -A deno.ts
import { createHub } from '@rt/server'
import { toFetchHandler } from '@rt/server/fetch'

type Events = { 'message.new': { text: string } }
const hub = createHub<Events>()
const events = toFetchHandler(hub)

Deno.serve(
  {
    port: Number(Deno.env.get('PORT') ?? 3000),
    onListen: ({ port }) => console.log(`listening on http://localhost:${port}`),
  },
  async (req) => {
    const { pathname } = new URL(req.url)
    if (pathname === '/events') return events(req)
    if (pathname !== '/publish' || req.method !== 'POST') return new Response(null, { status: 404 })
    return Response.json({ id: await hub.publish({ type: 'message.new', topic: 'lobby', data: await req.json() }) })
  },
)
