// rt on Koa 3: the handler owns the response at /events (ctx.respond = false), POST /publish to send.
import type { AddressInfo } from 'node:net'
import { createHub } from '@rt/server'
import { toNodeHandler } from '@rt/server/node'
import Koa from 'koa'

type Events = { 'message.new': { text: string } }
const hub = createHub<Events>()
const events = toNodeHandler(hub)

const app = new Koa()
app.use(async (ctx) => {
  if (ctx.path === '/events') {
    ctx.respond = false
    return events(ctx.req, ctx.res)
  }
  if (ctx.path !== '/publish' || ctx.method !== 'POST') return // 404
  let body = ''
  for await (const chunk of ctx.req) body += chunk
  ctx.body = { id: await hub.publish({ type: 'message.new', topic: 'lobby', data: JSON.parse(body) }) }
})
const server = app.listen(Number(process.env.PORT ?? 3000), () => {
  console.log(`listening on http://localhost:${(server.address() as AddressInfo).port}`)
})
