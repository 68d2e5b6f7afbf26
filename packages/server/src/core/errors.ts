/**
 * The one error class of `@rt/server`, with a machine-readable `code`.
 * @module
 */

/** Every code an {@link RtError} can carry. */
export type RtErrorCode =
  | 'invalid_type'
  | 'invalid_topic'
  | 'invalid_recipient'
  | 'invalid_key'
  | 'invalid_data'
  | 'invalid_option'
  | 'bad_request'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unauthorized'
  | 'forbidden'
  | 'method_not_allowed'
  | 'too_many_connections'
  | 'hub_closed'
  | 'unavailable'
  | 'replica_set_required'
  | 'history_lost'
  | 'internal'

const brand = Symbol.for('@rt/server.RtError')

/**
 * An error raised by rt: bad input to `publish`, a rejected request, a closed hub.
 *
 * `status` is the HTTP status an adapter answers with when the error ends a request.
 *
 * @example
 * ```ts
 * try { await hub.publish(input) } catch (err) {
 *   if (isRtError(err) && err.code === 'invalid_topic') { ... }
 * }
 * ```
 */
export class RtError extends Error {
  override readonly name = 'RtError'
  readonly code: RtErrorCode
  readonly status: number
  /** Seconds a client should wait before retrying, sent as `Retry-After`. */
  readonly retryAfter: number | undefined

  constructor(
    code: RtErrorCode,
    message: string,
    options: { status?: number; retryAfter?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.status = options.status ?? 500
    this.retryAfter = options.retryAfter
    Object.defineProperty(this, brand, { value: true })
  }
}

/**
 * True for an {@link RtError}, also when it comes from another copy of the package
 * (two versions installed side by side).
 */
export function isRtError(value: unknown): value is RtError {
  return (
    value instanceof RtError ||
    (typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true)
  )
}
