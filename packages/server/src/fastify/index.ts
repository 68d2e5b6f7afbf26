/**
 * `@rt/server/fastify`: a Fastify 5 plugin that mounts the hub's stream endpoint.
 * @module @rt/server/fastify
 */
import type { FastifyInstance } from 'fastify'
import type { HubResponse, RtRequest } from '../index.js'
import { fromNodeRequest, sendNodeResponse } from '../node/index.js'

/** Options of {@link fastifyRealtime}. */
export interface FastifyRealtimeOptions {
  /** The hub to serve (anything with `handle`). */
  hub: { handle(req: RtRequest): Promise<HubResponse> }
  /** Route of the stream endpoint. @default '/events' */
  path?: string
}

/**
 * Registers `GET <path>` (streams and long-poll), `POST <path>` (acks) and `OPTIONS <path>`
 * (CORS preflights) for the hub.
 *
 * @example
 * ```ts
 * await app.register(fastifyRealtime, { hub, path: '/events' })
 * ```
 */
export async function fastifyRealtime(app: FastifyInstance, options: FastifyRealtimeOptions): Promise<void> {
  const { hub, path = '/events' } = options
  // The body stays unread: the hub reads an ack body itself, after `authenticate` and up to
  // its own limit, so neither Fastify's parsers nor its `bodyLimit` read one first. The
  // plugin is encapsulated: this parser applies to its own routes only.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined))
  app.route({
    method: ['GET', 'POST', 'OPTIONS'],
    url: path,
    handler: async (request, reply) => {
      const response = await hub.handle(fromNodeRequest(request.raw, reply.raw, undefined))
      if (response.kind === 'response') {
        return reply.code(response.status).headers(response.headers).send(response.body)
      }
      // The stream outlives Fastify's reply cycle: take over the raw response.
      reply.hijack()
      sendNodeResponse(response, reply.raw)
      return reply
    },
  })
}
