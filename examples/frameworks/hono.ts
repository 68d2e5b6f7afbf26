// rt on Hono, served on Node by @hono/node-server: GET and POST /events, POST /publish to send.
import { serve } from '@hono/node-server'
import { createHub } from '@rt/server'
import { toFetchHandler } from '@rt/server/fetch'
import { Hono } from 'hono'

type Events = { 'message.new': { text: string } }
const hub = createHub<Events>()
const events = toFetchHandler(hub)

const app = new Hono()
app.on(['GET', 'POST'], '/events', (c) => events(c.req.raw))
app.post('/publish', async (c) =>
  c.json({ id: await hub.publish({ type: 'message.new', topic: 'lobby', data: await c.req.json() }) }),
)
serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000) }, ({ port }) => {
  console.log(`listening on http://localhost:${port}`)
})
