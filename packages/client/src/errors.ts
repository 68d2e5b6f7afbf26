/**
 * The one error class of `@rt/client`.
 * @module
 */

/**
 * What went wrong:
 * - `rejected`: the server refused the request for good (400, 403, 404, 405); the client closed.
 * - `listener`: a listener threw; the client carried on.
 * - `protocol`: a message could not be read (not JSON), or a 200 was not an event stream
 *   (for long-poll: not JSON); the client retries with backoff.
 * - `headers`: the `headers` function threw or rejected; the client retries with backoff.
 * - `ack`: acknowledgements were refused or could not be sent.
 * - `invalid_option`: thrown by `createClient` for an option out of range.
 * - `redirect`: the server answered with a redirect, which the client does not follow
 *   (it would carry the app's headers and position elsewhere); it retries with backoff.
 * - `too_large`: a message or line longer than `maxMessageSize`; the client reconnects.

 */
export type RtErrorCode =
  | 'rejected'
  | 'listener'
  | 'protocol'
  | 'headers'
  | 'ack'
  | 'invalid_option'
  | 'redirect'
  | 'too_large'

const brand = Symbol.for('@rt/client.RtError')

/**
 * An error reported to `onError`.
 *
 * @example
 * ```ts
 * createClient({ url, topics, onError: (err) => {
 *   if (isRtError(err) && err.code === 'rejected') showError(err.status, err.message)
 * } })
 * ```
 */
export class RtError extends Error {
  override readonly name = 'RtError'
  readonly code: RtErrorCode
  /** The HTTP status, for `rejected` and `ack`. */
  readonly status: number | undefined

  constructor(code: RtErrorCode, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause })
    this.code = code
    this.status = options.status
    Object.defineProperty(this, brand, { value: true })
  }
}

/** True for an {@link RtError}, also when it comes from another copy of the package. */
export function isRtError(value: unknown): value is RtError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true
}
