/**
 * `@rt/server/fetch`: serve a hub from anything speaking Web `Request` and `Response`:
 * Next.js route handlers, Hono, Bun, Deno, edge runtimes.
 * @module @rt/server/fetch
 */
import {
  type HealthOptions,
  type HubResponse,
  type HubStats,
  healthReport,
  RtError,
  type RtRequest,
  type StreamSink,
} from '../index.js'

/** What the fetch adapter needs from a hub. */
export interface HandlesRequests {
  handle(req: RtRequest): Promise<HubResponse>
}

/** Bytes the response stream holds before the hub sees backpressure. */
const HIGH_WATER_MARK = 64 * 1024

class StreamControllerSink implements StreamSink {
  private drainListeners: (() => void)[] = []
  /** No more writes: ended, aborted or cancelled. */
  done = false
  /** Ended with bytes still queued: closes when they are read. */
  private ending = false
  /** The controller is closed or errored. */
  closed = false
  constructor(private readonly controller: ReadableStreamDefaultController<Uint8Array>) {}
  write(chunk: Uint8Array): void {
    if (!this.done) this.controller.enqueue(chunk)
  }
  get bufferedBytes(): number {
    return this.done ? 0 : HIGH_WATER_MARK - (this.controller.desiredSize ?? 0)
  }
  onDrain(listener: () => void): void {
    this.drainListeners.push(listener)
  }
  drained(): void {
    if (this.ending && this.controller.desiredSize === HIGH_WATER_MARK) this.close()
    const listeners = this.drainListeners
    this.drainListeners = []
    for (const listener of listeners) listener()
  }
  /** Closes once the client has read what is queued; until then `abort` can still cut it. */
  end(): void {
    if (this.done) return
    this.done = true
    if (this.controller.desiredSize === HIGH_WATER_MARK) this.close()
    else this.ending = true
  }
  abort(): void {
    if (this.closed) return
    this.done = true
    this.closed = true
    this.controller.error(new Error('stream closed by the server: the client fell behind'))
  }
  private close(): void {
    this.ending = false
    this.closed = true
    this.controller.close()
  }
}

async function readBody(request: Request, limit: number): Promise<string> {
  const tooLarge = () => new RtError('payload_too_large', `request body is larger than ${limit} bytes`, { status: 413 })
  if (Number(request.headers.get('content-length') ?? 0) > limit) throw tooLarge()
  if (request.body === null) return ''
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel()
      throw tooLarge()
    }
    chunks.push(value)
  }
  const decoder = new TextDecoder()
  return chunks.map((chunk, i) => decoder.decode(chunk, { stream: i < chunks.length - 1 })).join('')
}

/**
 * What a Node host passes beside the request (`@hono/node-server` hands `{ incoming, outgoing }`
 * to the fetch callback): only the connection's `close` is used, typed structurally so this
 * entry stays free of Node imports.
 */
export interface NodeBindings {
  readonly incoming?:
    | {
        /** The connection, which reports when it goes away. */
        readonly socket?:
          | {
              once(event: 'close', listener: () => void): unknown
              off(event: 'close', listener: () => void): unknown
            }
          | null
          | undefined
      }
    | undefined
}

/**
 * Calls `onGone` when the connection under a request closes. A host may never abort the
 * request's signal for a request pipelined behind a stream (its response waits in a queue
 * that never closes): the socket itself says so. Returns the function that stops watching.
 */
function watchConnection(env: unknown, onGone: () => void): () => void {
  const socket = (env as NodeBindings | undefined)?.incoming?.socket
  if (typeof socket?.once !== 'function' || typeof socket.off !== 'function') return () => {}
  socket.once('close', onGone)
  return () => socket.off('close', onGone)
}

/** Turns the hub's answer into a Web `Response`. */
export function toResponse(response: HubResponse, signal?: AbortSignal, env?: unknown): Response {
  if (response.kind === 'response') {
    // 204 and 304 must not carry a body, not even an empty one.
    const body = response.status === 204 || response.status === 304 ? null : response.body
    return new Response(body, { status: response.status, headers: response.headers })
  }
  if (signal?.aborted) {
    response.cancel()
    return new Response(null, { status: 499 })
  }
  let sink: StreamControllerSink | undefined
  let close = () => response.cancel()
  let unwatch = () => {}
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        sink = new StreamControllerSink(controller)
        const handle = response.open(sink)
        close = () => {
          unwatch()
          handle.close()
        }
        signal?.addEventListener('abort', () => close(), { once: true })
        unwatch = watchConnection(env, () => {
          close()
          // Nobody will read the body any more: fail the host's pending read so it lets go.
          sink?.abort()
        })
      },
      pull() {
        sink?.drained()
      },
      cancel() {
        if (sink) {
          sink.done = true
          sink.closed = true
        }
        close()
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: HIGH_WATER_MARK }),
  )
  return new Response(body, { status: response.status, headers: response.headers })
}

/**
 * A `(request) => Promise<Response>` handler for the hub's stream endpoint. On Node, pass
 * the host's bindings as the second argument (`@hono/node-server` does so by itself when the
 * handler is its `fetch`): a stream is then released when its connection closes, even where
 * the host never aborts the request's signal (a request pipelined behind another).
 *
 * @example
 * ```ts
 * // Next.js App Router: app/events/route.ts
 * export const GET = toFetchHandler(hub)
 * // Hono
 * app.get('/events', (c) => handler(c.req.raw, c.env))
 * // Bun / Deno
 * Bun.serve({ fetch: toFetchHandler(hub) })
 * ```
 */
export function toFetchHandler(hub: HandlesRequests): (request: Request, env?: unknown) => Promise<Response> {
  return async (request, env) => {
    const req: RtRequest = {
      method: request.method,
      url: new URL(request.url),
      headers: request.headers,
      raw: request,
      signal: request.signal,
      readBody: (limit) => readBody(request, limit),
    }
    return toResponse(await hub.handle(req), request.signal, env)
  }
}

/**
 * Answers probes with the hub's counts as JSON: 200, or 503 when the hub is closing or a
 * source failed. Topics, user ids and failure text only with `{ details: true }`.
 */
export function healthHandler(hub: { stats(): HubStats }, options?: HealthOptions): (request?: Request) => Response {
  return () => {
    const { status, report } = healthReport(hub, options)
    return new Response(JSON.stringify(report), {
      status,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    })
  }
}
