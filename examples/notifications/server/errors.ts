/**
 * The one error the service throws: an HTTP status, a code and a message a user may read.
 * Anything else becomes a 500 without its text.
 * @module
 */
export type AppErrorCode = 'bad_request' | 'unauthorized' | 'forbidden' | 'not_found'

const STATUS: Record<AppErrorCode, number> = { bad_request: 400, unauthorized: 401, forbidden: 403, not_found: 404 }

export class AppError extends Error {
  override readonly name = 'AppError'
  readonly status: number
  constructor(
    readonly code: AppErrorCode,
    message: string,
  ) {
    super(message)
    this.status = STATUS[code]
  }
}

/**
 * Whether `error` is an `AppError`, also one thrown by another copy of this module (the
 * server's, while this one is in the Next.js bundle).
 */
export function isAppError(error: unknown): error is AppError {
  return error instanceof Error && error.name === 'AppError' && typeof (error as AppError).status === 'number'
}

/** The JSON answer for an error: its own status and message, or a bare 500. */
export function errorResponse(error: unknown, onError: (error: unknown) => void): Response {
  if (isAppError(error)) {
    return Response.json({ error: { code: error.code, message: error.message } }, { status: error.status })
  }
  onError(error)
  return Response.json({ error: { code: 'internal', message: 'internal error' } }, { status: 500 })
}
