/**
 * The one error class of `@rt/client`.
 * @module
 */

/**
 * What went wrong:
 * - `rejected`: the server refused the request for good (400, 403, 404, 405); the client closed.
 * - `listener`: a listener threw; the client carried on.
 * - `protocol`: a message could not be read (not JSON).
 * - `headers`: the `headers` function threw or rejected; the client retries with backoff.
 * - `ack`: acknowledgements were refused or could not be sent.
 */
export type RtErrorCode = 'rejected' | 'listener' | 'protocol' | 'headers' | 'ack'

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
