// rt on Fastify 5: the plugin serves GET and POST /events, plus /healthz and POST /publish.
import { createHub } from '@rt/server'
import { fastifyRealtime } from '@rt/server/fastify'
import { healthHandler } from '@rt/server/node'
import Fastify from 'fastify'

type Events = { 'message.new': { text: string } }
const hub = createHub<Events>()

const app = Fastify()
await app.register(fastifyRealtime, { hub, path: '/events' })
const health = healthHandler(hub)
app.get('/healthz', (request, reply) => {
  reply.hijack()
  health(request.raw, reply.raw)
})
app.post<{ Body: Events['message.new'] }>('/publish', async (request) => ({
  id: await hub.publish({ type: 'message.new', topic: 'lobby', data: request.body }),
}))
console.log(`listening on ${await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })}`)
