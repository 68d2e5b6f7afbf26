/** Socket.IO over its websocket transport: `io.emit` per event, a room per user for targeting. */
import { createServer } from 'node:http'
import { Server } from 'socket.io'
import { listenOnLoopback, runServer } from './harness.js'

const server = createServer()
const io = new Server(server, { transports: ['websocket'], serveClient: false })
io.on('connection', (socket) => {
  const user = socket.handshake.query.u
  if (typeof user === 'string') void socket.join(user)
})

await runServer({
  path: '/?u=',
  listen: () => listenOnLoopback(server),
  broadcast: (payload) => {
    io.emit('tick', payload)
  },
  target: (to, payload) => {
    io.to([...to]).emit('tick', payload)
  },
})
