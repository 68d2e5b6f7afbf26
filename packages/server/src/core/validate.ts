/**
 * Publish-time validation: nothing that could break the wire gets into the log.
 * @module
 */
import { RtError, type RtErrorCode } from './errors.js'
import { CONTROL_PREFIX, hasControlChars } from './wire.js'

const MAX_NAME = 256
const MAX_KEY = 512
/** A lone surrogate has no UTF-8 encoding: an event type holding one would reach clients as U+FFFD. */
const LONE_SURROGATE = /\p{Surrogate}/u

/** A publish input after validation, with its data serialised and `data` a copy of that JSON. */
export interface CheckedPublish {
  readonly type: string
  readonly topic: string
  readonly to: readonly string[] | undefined
  readonly key: string | undefined
  readonly data: unknown
  readonly json: string
}

function checkName(value: unknown, what: string, code: RtErrorCode, max: number): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new RtError(code, `${what} must be a non-empty string`)
  }
  if (value.length > max) throw new RtError(code, `${what} is longer than ${max} characters`)
  if (hasControlChars(value)) {
    throw new RtError(code, `${what} must not contain CR, LF, NUL or other control characters`)
  }
  if (LONE_SURROGATE.test(value)) throw new RtError(code, `${what} must be well-formed Unicode (no lone surrogates)`)
  return value
}

function serialise(data: unknown): string {
  let json: string | undefined
  try {
    json = JSON.stringify(data)
  } catch (cause) {
    throw new RtError('invalid_data', 'data is not JSON-serialisable', { cause })
  }
  if (json === undefined) {
    if (data === undefined) return 'null'
    throw new RtError('invalid_data', `data of type ${typeof data} is not JSON-serialisable`)
  }
  return json
}

export function checkPublish(input: unknown): CheckedPublish {
  if (typeof input !== 'object' || input === null) {
    throw new RtError('invalid_type', 'publish takes an object: { type, topic, data }')
  }
  const { type, topic, to, key, data } = input as Record<string, unknown>
  checkName(type, 'event type', 'invalid_type', MAX_NAME)
  if ((type as string).startsWith(CONTROL_PREFIX)) {
    throw new RtError('invalid_type', `event types starting with "${CONTROL_PREFIX}" are reserved`)
  }
  checkName(topic, 'topic', 'invalid_topic', MAX_NAME)
  if ((topic as string).includes(',')) throw new RtError('invalid_topic', 'topic must not contain a comma')

  let recipients: string[] | undefined
  if (to !== undefined) {
    const list = typeof to === 'string' ? [to] : to
    if (!Array.isArray(list)) throw new RtError('invalid_recipient', 'to must be a user id or an array of them')
    recipients = [...new Set(list.map((id) => checkName(id, 'recipient user id', 'invalid_recipient', MAX_NAME)))]
  }
  if (key !== undefined) checkName(key, 'key', 'invalid_key', MAX_KEY)

  const json = serialise(data)
  return {
    type: type as string,
    topic: topic as string,
    to: recipients,
    key: key as string | undefined,
    // A copy made from the validated JSON: the app may mutate (or make circular) its object
    // after publish, and replay and long-poll must still return what was published.
    data: JSON.parse(json) as unknown,
    json,
  }
}
