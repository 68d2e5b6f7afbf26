/**
 * `@rt/server/fetch`: serve a hub from anything speaking Web `Request` and `Response`:
 * Next.js route handlers, Hono, Bun, Deno, edge runtimes.
 * @module @rt/server/fetch
 */
import { type HubResponse, type HubStats, healthReport, RtError, type RtRequest, type StreamSink } from '../index.js'

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

/** Turns the hub's answer into a Web `Response`. */
export function toResponse(response: HubResponse, signal?: AbortSignal): Response {
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
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        sink = new StreamControllerSink(controller)
        close = response.open(sink).close
        signal?.addEventListener('abort', () => close(), { once: true })
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
 * A `(request) => Promise<Response>` handler for the hub's stream endpoint.
 *
 * @example
 * ```ts
 * // Next.js App Router: app/events/route.ts
 * export const GET = toFetchHandler(hub)
 * // Hono
 * app.get('/events', (c) => handler(c.req.raw))
 * // Bun / Deno
 * Bun.serve({ fetch: toFetchHandler(hub) })
 * ```
 */
export function toFetchHandler(hub: HandlesRequests): (request: Request) => Promise<Response> {
  return async (request) => {
    const req: RtRequest = {
      method: request.method,
      url: new URL(request.url),
      headers: request.headers,
      raw: request,
      signal: request.signal,
      readBody: (limit) => readBody(request, limit),
    }
    return toResponse(await hub.handle(req), request.signal)
  }
}

/**
 * Answers probes with `hub.stats()` as JSON: 200, or 503 when the hub is closing or a
 * source failed.
 */
export function healthHandler(hub: { stats(): HubStats }): (request?: Request) => Response {
  return () => {
    const { status, report } = healthReport(hub)
    return new Response(JSON.stringify(report), {
      status,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    })
  }
}
