/**
 * A minimal SSE reader over fetch + eventsource-parser, for tests that need to see every
 * event (control events included), drop the connection at will and resume by id.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser'

export interface SseEvent {
  readonly id: string | undefined
  readonly event: string
  readonly data: string
}

export interface SseStream {
  readonly status: number
  readonly headers: Headers
  /** Every event received so far, control events included. */
  readonly events: SseEvent[]
  /** The last `id:` seen (what an EventSource would send as Last-Event-ID). */
  readonly lastEventId: string | undefined
  /** Resolves once `predicate` holds for the events received so far. */
  until(predicate: (events: readonly SseEvent[]) => boolean, timeoutMs?: number): Promise<void>
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>
  close(): void
}

export interface OpenOptions {
  lastEventId?: string
  headers?: Record<string, string>
}

export async function openSse(url: string, options: OpenOptions = {}): Promise<SseStream> {
  const controller = new AbortController()
  const headers: Record<string, string> = { accept: 'text/event-stream', ...options.headers }
  if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId
  const res = await fetch(url, { headers, signal: controller.signal })
  const events: SseEvent[] = []
  let lastEventId: string | undefined
  let wake: () => void = () => {}
  const parser = createParser({
    onEvent(message: EventSourceMessage) {
      if (message.id !== undefined) lastEventId = message.id
      events.push({ id: message.id, event: message.event ?? 'message', data: message.data })
      wake()
    },
  })
  let ended: Promise<void> = Promise.resolve()
  let done = false
  if (res.body !== null && res.status === 200) {
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
    ended = (async () => {
      try {
        for (;;) {
          const { value, done: finished } = await reader.read()
          if (finished) break
          parser.feed(value)
        }
      } catch {
        // aborted by close() or by the server
      } finally {
        done = true
        wake()
      }
    })()
  } else {
    await res.text()
    done = true
  }
  return {
    status: res.status,
    headers: res.headers,
    events,
    get lastEventId() {
      return lastEventId
    },
    ended,
    until(predicate, timeoutMs = 10_000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          wake = () => {}
          reject(new Error(`timed out after ${timeoutMs} ms with ${events.length} events`))
        }, timeoutMs)
        const check = () => {
          if (predicate(events)) {
            clearTimeout(timer)
            wake = () => {}
            resolve()
          } else if (done) {
            clearTimeout(timer)
            wake = () => {}
            reject(new Error(`stream ended with ${events.length} events before the condition held`))
          }
        }
        wake = check
        check()
      })
    },
    close() {
      controller.abort()
    },
  }
}

/** Application events only (no `rt.*` control events), with their parsed envelope. */
export function appEvents(events: readonly SseEvent[]) {
  return events
    .filter((e) => !e.event.startsWith('rt.'))
    .map((e) => ({ id: e.id, type: e.event, ...(JSON.parse(e.data) as { topic: string; ts: number; data: unknown }) }))
}
