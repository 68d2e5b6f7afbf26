// rt on Express 5: GET and POST /events (acks need POST), POST /publish to send.
import type { AddressInfo } from 'node:net'
import { createHub } from '@rt/server'
import { toNodeHandler } from '@rt/server/node'
import express from 'express'

type Events = { 'message.new': { text: string } }
const hub = createHub<Events>()
const events = toNodeHandler(hub)

const app = express()
app.route('/events').get(events).post(events)
app.post('/publish', express.json(), async (req, res) => {
  res.json({ id: await hub.publish({ type: 'message.new', topic: 'lobby', data: req.body }) })
})
const server = app.listen(Number(process.env.PORT ?? 3000), () => {
  console.log(`listening on http://localhost:${(server.address() as AddressInfo).port}`)
})
