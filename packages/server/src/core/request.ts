/**
 * Reads the subscription out of a request, or says why it is a bad one.
 * @module
 */
import { RtError } from './errors.js'
import { hasControlChars } from './wire.js'

/** A parsed subscribe request. */
export interface SubscribeParams {
  readonly topics: readonly string[]
  /** `null` means every type. */
  readonly types: ReadonlySet<string> | null
  readonly lastEventId: string | null
  readonly transport: 'sse' | 'poll'
  /** Send `rt.presence` events for the subscribed topics (`presence=1`). */
  readonly presence: boolean
  /** Long-poll wait requested with `timeout=` (ms), before clamping; `null` for the default. */
  readonly timeoutMs: number | null
}

export interface RequestLimits {
  readonly maxTopics: number
  readonly maxQueryLength: number
}

const MAX_NAME = 256
const badName = (name: string) => name.length > MAX_NAME || name.includes(',') || hasControlChars(name)

function list(params: URLSearchParams, name: string): string[] {
  const out: string[] = []
  for (const value of params.getAll(name)) {
    for (const item of value.split(',')) if (item !== '') out.push(item)
  }
  return out
}

function bad(message: string): RtError {
  return new RtError('bad_request', message, { status: 400 })
}

export function parseSubscribe(
  url: URL,
  headers: { get(name: string): string | null },
  limits: RequestLimits,
): SubscribeParams | RtError {
  if (url.search.length > limits.maxQueryLength) {
    return bad(`query string is longer than ${limits.maxQueryLength} characters`)
  }
  const params = url.searchParams
  const transport = params.get('transport') ?? 'sse'
  if (transport !== 'sse' && transport !== 'poll') {
    return bad(`unknown transport "${transport.slice(0, 32)}"; use "sse" or "poll"`)
  }
  const timeoutText = params.get('timeout')
  const timeoutMs = timeoutText === null ? null : Number(timeoutText)
  if (timeoutMs !== null && !(Number.isInteger(timeoutMs) && timeoutMs >= 0)) {
    return bad('timeout must be a whole number of milliseconds')
  }
  const presenceText = params.get('presence')
  const presence = presenceText === '1' || presenceText === 'true'

  const topics = [...new Set(list(params, 'topics'))]
  if (topics.length === 0) return bad('at least one topic is required: ?topics=a,b')
  if (topics.length > limits.maxTopics) return bad(`at most ${limits.maxTopics} topics per request`)
  for (const topic of topics) {
    if (badName(topic)) return bad('a topic is too long or holds control characters')
  }

  const typeList = list(params, 'types')
  if (typeList.length > limits.maxTopics) return bad(`at most ${limits.maxTopics} types per request`)
  for (const type of typeList) {
    if (badName(type)) return bad('an event type is too long or holds control characters')
  }

  // The header wins: a browser's EventSource sends it on reconnect while its URL still
  // carries the id it was first opened with.
  const lastEventId = headers.get('last-event-id') ?? params.get('lastEventId')
  return {
    topics,
    types: typeList.length > 0 ? new Set(typeList) : null,
    lastEventId: lastEventId === '' ? null : lastEventId,
    transport,
    presence,
    timeoutMs,
  }
}
