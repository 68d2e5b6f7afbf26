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
 * Registers `GET <path>` (streams and long-poll) and `POST <path>` (acks) for the hub.
 *
 * @example
 * ```ts
 * await app.register(fastifyRealtime, { hub, path: '/events' })
 * ```
 */
export async function fastifyRealtime(app: FastifyInstance, options: FastifyRealtimeOptions): Promise<void> {
  const { hub, path = '/events' } = options
  // Ack bodies reach the hub as text so every adapter answers bad JSON the same way. The
  // plugin is encapsulated: these parsers apply to its own routes only.
  const asText = (_request: unknown, body: string | Buffer, done: (error: null, body: string) => void) =>
    done(null, body.toString())
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string' }, asText)
  app.route({
    method: ['GET', 'POST'],
    url: path,
    handler: async (request, reply) => {
      const response = await hub.handle(fromNodeRequest(request.raw, reply.raw, request.body))
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
