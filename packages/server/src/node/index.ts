/**
 * `@rt/server/node`: serve a hub from `node:http`, `node:http2` (TLS or cleartext h2c),
 * Express, Koa or anything that hands out Node's `IncomingMessage` and `ServerResponse`.
 * @module @rt/server/node
 */
import { type HealthOptions, type HubResponse, type HubStats, healthReport, type RtRequest } from '../index.js'
import { fromNodeRequest, type NodeRequest, type NodeResponse } from './request.js'
import { sendNodeResponse } from './response.js'

/** What the node adapter needs from a hub. */
export interface HandlesRequests {
  handle(req: RtRequest): Promise<HubResponse>
}

/**
 * A Node request handler; also valid Express middleware. It never rejects: an unexpected
 * error goes to `next` when given (Express), or answers 500.
 */
export type NodeHandler = (req: NodeRequest, res: NodeResponse, next?: (error?: unknown) => void) => Promise<void>

/**
 * Serves the hub's stream endpoint.
 *
 * @example
 * ```ts
 * const events = toNodeHandler(hub)
 * http.createServer(events).listen(3000)                  // node:http
 * http2.createSecureServer({ key, cert, allowHTTP1: true }, events).listen(443) // HTTP/2
 * app.route('/events').get(events).post(events)           // Express 5 (POST carries acks)
 * router.all('/events', (ctx) => { ctx.respond = false; return events(ctx.req, ctx.res) }) // Koa
 * ```
 */
export function toNodeHandler(hub: HandlesRequests): NodeHandler {
  return async (req, res, next) => {
    try {
      sendNodeResponse(await hub.handle(fromNodeRequest(req, res)), res)
    } catch (error) {
      // Never an unhandled rejection: hand the error to Express, or answer 500 ourselves.
      if (next !== undefined) return next(error)
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' })
      res.end('{"error":{"code":"internal","message":"internal error"}}')
    }
  }
}

/**
 * Serves the hub's counts as JSON with status 200, or 503 when the hub is closing or a
 * source failed, for load balancer and orchestrator probes. Topics, user ids and failure
 * text only with `{ details: true }` (see {@link HealthOptions}).
 *
 * @example
 * ```ts
 * app.get('/healthz', healthHandler(hub))
 * ```
 */
export function healthHandler(
  hub: { stats(): HubStats },
  options?: HealthOptions,
): (req: NodeRequest, res: NodeResponse) => void {
  return (_req, res) => {
    const { status, report } = healthReport(hub, options)
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
    res.end(JSON.stringify(report))
  }
}

export { fromNodeRequest, type NodeRequest, type NodeResponse, sendNodeResponse }
