/**
 * An in-memory `fetch` for unit tests of the transport loop: each request waits for the
 * test to answer it, as a server would, and honours its abort signal.
 */
import { settle } from './manual-timers.js'

export interface FakeRequest {
  readonly url: URL
  readonly method: string
  readonly headers: Record<string, string>
  readonly body: string | undefined
  readonly signal: AbortSignal | undefined
  /** Answers with a plain response. */
  reply(status: number, body?: unknown, headers?: Record<string, string>): void
  /** Answers 200 `text/event-stream` and returns the writable end of the stream. */
  stream(): FakeStream
}

export interface FakeStream {
  send(text: string): void
  end(): void
  /** Breaks the stream as a dropped connection would. */
  fail(): void
}

export interface FakeFetch {
  readonly fetch: typeof fetch
  /** Every request made so far. */
  readonly requests: FakeRequest[]
  /** Requests not answered yet. */
  readonly waiting: FakeRequest[]
  /** Resolves with the next unanswered request, or throws after a few settle rounds. */
  next(): Promise<FakeRequest>
  /** Makes the next requests fail as a network error would, once each (they are still recorded). */
  failNext(count: number): void
}

export function fakeFetch(): FakeFetch {
  const requests: FakeRequest[] = []
  const waiting: FakeRequest[] = []
  let failures = 0
  const fetchImpl = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      const signal = init.signal ?? undefined
      let controller: ReadableStreamDefaultController<Uint8Array> | undefined
      const encoder = new TextEncoder()
      const answered = () => {
        const at = waiting.indexOf(request)
        if (at >= 0) waiting.splice(at, 1)
      }
      const request: FakeRequest = {
        url: new URL(String(input)),
        method: init.method ?? 'GET',
        headers: { ...(init.headers as Record<string, string>) },
        body: typeof init.body === 'string' ? init.body : undefined,
        signal,
        reply(status, body, headers = {}) {
          answered()
          const text = body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body)
          // An object goes out as JSON, labelled as a server would.
          const type: Record<string, string> = typeof body === 'object' ? { 'content-type': 'application/json' } : {}
          resolve(new Response(status === 204 ? null : text, { status, headers: { ...type, ...headers } }))
        },
        stream() {
          answered()
          const body = new ReadableStream<Uint8Array>({
            start(c) {
              controller = c
            },
          })
          resolve(new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } }))
          return {
            send(text) {
              try {
                controller?.enqueue(encoder.encode(text))
              } catch {}
            },
            end() {
              try {
                controller?.close()
              } catch {}
            },
            fail() {
              try {
                controller?.error(new TypeError('terminated'))
              } catch {}
            },
          }
        },
      }
      signal?.addEventListener('abort', () => {
        answered()
        const error = new DOMException('This operation was aborted', 'AbortError')
        reject(error)
        try {
          controller?.error(error)
        } catch {}
      })
      requests.push(request)
      if (failures > 0) {
        failures--
        reject(new TypeError('fetch failed'))
        return
      }
      waiting.push(request)
    })
  return {
    fetch: fetchImpl as typeof fetch,
    requests,
    waiting,
    async next() {
      for (let i = 0; i < 20; i++) {
        const request = waiting[0]
        if (request !== undefined) return request
        await settle(1)
      }
      throw new Error(`no request is waiting (${requests.length} made)`)
    },
    failNext(count) {
      failures += count
    },
  }
}

/** SSE text of one application event, as the hub writes it. */
export function sseEvent(id: string, type: string, data: unknown, topic = 't', ts = 1): string {
  return `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify({ topic, ts, data })}\n\n`
}

/** The first bytes of a stream: `retry:` and `rt.connected`, with the head id on a fresh one. */
export function sseOpen(heartbeatMs = 1_000, head?: string, retryMs = 100): string {
  const id = head === undefined ? '' : `id: ${head}\n`
  return `retry: ${retryMs}\n${id}event: rt.connected\ndata: ${JSON.stringify({ heartbeatMs })}\n\n`
}
