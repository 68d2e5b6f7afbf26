/**
 * The wire protocol, read: what an SSE message or a long-poll answer means, with no I/O.
 * See docs/protocol.md for the format.
 * @module
 */
import { CONTROL_PREFIX, ControlEvent, type PollAnswer } from '@rt/protocol'
import type { Cursor } from './cursor.js'
import type { EventMeta, PresenceInfo, ResetInfo } from './types.js'

const CONTROL = CONTROL_PREFIX
export const CONNECTED = ControlEvent.connected
export const RESET = ControlEvent.reset
export const CLOSING = ControlEvent.closing
export const PRESENCE = ControlEvent.presence

/** One message off the wire, whichever transport brought it; `data` is parsed JSON. */
export interface Message {
  readonly id?: string | undefined
  readonly type: string
  readonly data: unknown
}

/** What the client should do with a message. */
export type Action =
  | { readonly kind: 'event'; readonly data: unknown; readonly meta: EventMeta }
  | { readonly kind: 'connected'; readonly heartbeatMs: number }
  | { readonly kind: 'reset'; readonly info: ResetInfo }
  | { readonly kind: 'presence'; readonly info: PresenceInfo }
  | { readonly kind: 'closing' }

/** An SSE message as the SSE reader hands it over. Throws on data that is not JSON. */
export function fromSse(message: { id?: string | undefined; event?: string | undefined; data: string }): Message {
  return { id: message.id, type: message.event ?? 'message', data: JSON.parse(message.data) }
}

/** The messages in a long-poll answer, in order; a stream-wide reset comes first. */
export function fromPoll(answer: PollAnswer): Message[] {
  const out: Message[] = answer.reset
    ? [{ id: answer.lastEventId, type: RESET, data: { reason: answer.reason ?? 'unknown' } }]
    : []
  for (const event of answer.events) {
    out.push(
      event.type === RESET
        ? { id: event.id, type: RESET, data: { ...(event.data as object), topic: event.topic } }
        : { id: event.id, type: event.type, data: event },
    )
  }
  return out
}

/**
 * Reads one message: moves the cursor (control events that carry an id move it; an
 * application event moves it unless its id was seen already) and says what to do.
 * `undefined`: nothing to do (a duplicate, an unknown control event, an event with no id).
 */
export function interpret(message: Message, cursor: Cursor): Action | undefined {
  const { id, type } = message
  const data = (message.data ?? {}) as Record<string, unknown>
  switch (type) {
    case CONNECTED:
      // Carries the head of the log on a fresh connection: the position to resume from.
      if (id !== undefined) cursor.move(id)
      return { kind: 'connected', heartbeatMs: Number(data.heartbeatMs) || 15_000 }
    case RESET: {
      const reason = String(data.reason)
      if (typeof data.topic === 'string') {
        // A topic reset is a logged entry like any other: replayed at most once.
        if (id !== undefined && !cursor.take(id)) return
        return { kind: 'reset', info: { reason, topic: data.topic } }
      }
      // A new log (a restarted server): its ids may repeat old ones.
      cursor.clear()
      if (id !== undefined) cursor.move(id)
      return { kind: 'reset', info: { reason } }
    }
    case PRESENCE:
      return { kind: 'presence', info: data as unknown as PresenceInfo }
    case CLOSING:
      return { kind: 'closing' }
  }
  if (type.startsWith(CONTROL) || id === undefined || !cursor.take(id)) return
  return { kind: 'event', data: data.data, meta: { id, topic: String(data.topic), ts: Number(data.ts), type } }
}
