/** Socket.IO over its websocket transport: `io.emit` per event, a room per user for targeting. */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Server } from 'socket.io'
import { BACKLOG, runServer } from './harness.js'

const server = createServer()
const io = new Server(server, { transports: ['websocket'], serveClient: false })
io.on('connection', (socket) => {
  const user = socket.handshake.query.u
  if (typeof user === 'string') void socket.join(user)
})

await runServer({
  path: '/?u=',
  listen: () =>
    new Promise((resolve) =>
      server.listen(0, '127.0.0.1', BACKLOG, () => resolve((server.address() as AddressInfo).port)),
    ),
  broadcast: (payload) => {
    io.emit('tick', payload)
  },
  target: (to, payload) => {
    io.to([...to]).emit('tick', payload)
  },
})
