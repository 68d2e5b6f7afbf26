/**
 * The one error the feed's service throws: an HTTP status, a code and a message a user may
 * read. Anything else becomes a 500 without its text.
 * @module
 */
export type SocialErrorCode = 'bad_request' | 'unauthorized' | 'forbidden' | 'not_found'

const STATUS: Record<SocialErrorCode, number> = { bad_request: 400, unauthorized: 401, forbidden: 403, not_found: 404 }

export class SocialError extends Error {
  override readonly name = 'SocialError'
  readonly status: number
  constructor(
    readonly code: SocialErrorCode,
    message: string,
  ) {
    super(message)
    this.status = STATUS[code]
  }
}
