/** @durable-streams/server: one JSON stream, appended in-process, read with `live=sse`. */
import { DurableStreamTestServer } from '@durable-streams/server'
import { runServer } from './harness.js'

const server = new DurableStreamTestServer({ port: 0, host: '127.0.0.1', compression: false })
const encoder = new TextEncoder()

await runServer({
  path: '/bench?offset=now&live=sse&u=',
  listen: async () => {
    await server.start()
    server.store.create('/bench', { contentType: 'application/json' })
    return Number(new URL(server.url).port)
  },
  broadcast: (payload) => {
    server.store.append('/bench', encoder.encode(JSON.stringify(payload)))
  },
})
