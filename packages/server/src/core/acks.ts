/**
 * Reads an acknowledgement request: `POST <mount>` with `{ "ack": ["id", …] }`.
 * @module
 */
import { RtError } from './errors.js'
import { hasControlChars } from './wire.js'

/** Most ids one ack request may carry. */
export const MAX_ACK_IDS = 1_000
/** Largest ack body read, in bytes. */
export const MAX_ACK_BODY = 64 * 1024
const MAX_ID = 256

function bad(message: string): RtError {
  return new RtError('bad_request', message, { status: 400 })
}

/** Whether a `content-type` names JSON (`application/json`, any parameters, any case). */
export function isJson(contentType: string | null): boolean {
  if (contentType === null) return false
  const semicolon = contentType.indexOf(';')
  const mediaType = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase()
  return mediaType === 'application/json'
}

export function parseAck(body: string): readonly string[] | RtError {
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch {
    return bad('ack body must be JSON: { "ack": ["id", ...] }')
  }
  const ids = typeof value === 'object' && value !== null ? (value as { ack?: unknown }).ack : undefined
  if (!Array.isArray(ids)) return bad('ack body must be JSON: { "ack": ["id", ...] }')
  if (ids.length > MAX_ACK_IDS) return bad(`at most ${MAX_ACK_IDS} ids per ack`)
  for (const id of ids) {
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID || hasControlChars(id)) {
      return bad('ack ids must be non-empty strings without control characters')
    }
  }
  return [...new Set(ids as string[])]
}
