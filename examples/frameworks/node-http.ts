// rt on plain node:http: the stream at /events (GET streams, POST acks), POST /publish to send.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHub } from '@rt/server'
import { toNodeHandler } from '@rt/server/node'

type Events = { 'message.new': { text: string } }
const hub = createHub<Events>()
const events = toNodeHandler(hub)

const server = createServer(async (req, res) => {
  if (req.url?.startsWith('/events')) return events(req, res)
  if (req.url !== '/publish' || req.method !== 'POST') return void res.writeHead(404).end()
  let body = ''
  for await (const chunk of req) body += chunk
  const id = await hub.publish({ type: 'message.new', topic: 'lobby', data: JSON.parse(body) })
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id }))
})
server.listen(Number(process.env.PORT ?? 3000), () => {
  console.log(`listening on http://localhost:${(server.address() as AddressInfo).port}`)
})
