/** Translates a Node HTTP/1.x or HTTP/2 request into the hub's framework-neutral request. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2'
import { RtError, type RtRequest } from '../index.js'

/** A request from `node:http` or from `node:http2`'s compatibility API (TLS or cleartext h2c). */
export type NodeRequest = IncomingMessage | Http2ServerRequest
/** The response beside a {@link NodeRequest}. */
export type NodeResponse = ServerResponse | Http2ServerResponse

function headerGetter(req: NodeRequest): RtRequest['headers'] {
  return {
    get(name) {
      const key = name.toLowerCase()
      // HTTP/2 carries the host in the `:authority` pseudo-header.
      const value = req.headers[key] ?? (key === 'host' ? req.headers[':authority'] : undefined)
      if (value === undefined) return null
      return Array.isArray(value) ? value.join(', ') : value
    },
  }
}

function readBody(req: NodeRequest, parsed: unknown, limit: number): Promise<string> {
  // A body parser (express.json(), Fastify, koa-body) may have read the stream already.
  const tooLarge = () => new RtError('payload_too_large', `request body is larger than ${limit} bytes`, { status: 413 })
  if (parsed !== undefined) {
    const text = typeof parsed === 'string' ? parsed : JSON.stringify(parsed)
    return Buffer.byteLength(text) > limit ? Promise.reject(tooLarge()) : Promise.resolve(text)
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength
      if (size <= limit) {
        chunks.push(chunk)
        return
      }
      req.off('data', onData)
      req.resume()
      reject(tooLarge())
    }
    req.on('data', onData)
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.once('error', reject)
  })
}

/** The client went away: `destroyed` on HTTP/1.x, the stream's state on HTTP/2. */
export function isGone(res: NodeResponse): boolean {
  return 'stream' in res ? res.stream.destroyed || res.stream.closed : res.destroyed
}

/**
 * The request target as a URL. A target `new URL` rejects (`//host:99999/…`, an absolute
 * form with a bad host) must not throw out of the handler: only the query matters to the hub.
 */
function targetUrl(target: string): URL {
  try {
    return new URL(target, 'http://localhost')
  } catch {
    const query = target.indexOf('?')
    return new URL(query === -1 ? '/' : `/${target.slice(query)}`, 'http://localhost')
  }
}

/**
 * Translates a Node request into the hub's framework-neutral request. Pass the response
 * too, so a waiting long-poll request ends when the client goes away, and the body if a
 * framework already parsed it (`req.body` is used otherwise, as Express sets it).
 */
export function fromNodeRequest(
  req: NodeRequest & { originalUrl?: string; body?: unknown },
  res?: NodeResponse,
  parsedBody: unknown = req.body,
): RtRequest {
  // Express rewrites req.url under a mount path; only the query string matters to the hub.
  const path = req.originalUrl ?? req.url ?? '/'
  let controller: AbortController | undefined
  return {
    method: req.method ?? 'GET',
    url: targetUrl(path),
    headers: headerGetter(req),
    raw: req,
    readBody: (limit) => readBody(req, parsedBody, limit),
    // Made on first use: only long-poll requests need it.
    get signal() {
      if (controller === undefined) {
        controller = new AbortController()
        const abort = () => controller?.abort()
        if (res === undefined || isGone(res)) abort()
        else res.once('close', abort)
      }
      return controller.signal
    },
  }
}
