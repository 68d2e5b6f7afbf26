/**
 * The one error the chat's service throws: an HTTP status, a code and a message a user
 * may read. Anything else becomes a 500 without its text.
 * @module
 */
export type ChatErrorCode = 'bad_request' | 'unauthorized' | 'forbidden' | 'not_found' | 'conflict'

const STATUS: Record<ChatErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
}

export class ChatError extends Error {
  override readonly name = 'ChatError'
  readonly status: number
  constructor(
    readonly code: ChatErrorCode,
    message: string,
  ) {
    super(message)
    this.status = STATUS[code]
  }
}
