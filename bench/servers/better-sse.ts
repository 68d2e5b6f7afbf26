/** better-sse: one channel, `channel.broadcast` per event; sessions per user for targeting. */
import { createServer } from 'node:http'
import { createChannel, createSession, type Session } from 'better-sse'
import { listenOnLoopback, runServer } from './harness.js'

const channel = createChannel()
const byUser = new Map<string, Session>()

const server = createServer(async (req, res) => {
  const user = new URL(req.url ?? '/', 'http://x').searchParams.get('u') ?? ''
  const session = await createSession(req, res, { keepAlive: 15_000 })
  channel.register(session)
  byUser.set(user, session)
  session.once('disconnected', () => byUser.delete(user))
})

await runServer({
  path: '/events?u=',
  listen: () => listenOnLoopback(server),
  broadcast: (payload) => {
    channel.broadcast(payload, 'tick')
  },
  target: (to, payload) => {
    for (const user of to) byUser.get(user)?.push(payload, 'tick')
  },
})
