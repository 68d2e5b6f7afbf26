/**
 * Telling MongoDB errors apart by their server codes, without loading the driver.
 * @module
 */
import { RtError } from '../index.js'

/** The server's error code, when `error` carries one. */
export function errorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'number' ? code : undefined
}

/** E11000: a unique index refused the write. */
export function isDuplicateKey(error: unknown): boolean {
  return errorCode(error) === 11000
}

function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message
  return typeof message === 'string' ? message : ''
}

/**
 * The change stream cannot resume from its position: the oplog no longer holds it. 286 is
 * ChangeStreamHistoryLost (4.4+); 136 CappedPositionLost is what an open cursor that fell off
 * the oplog gets first; 4.2 answered 280 with the same "no longer in the oplog" message.
 */
export function isHistoryLost(error: unknown): boolean {
  const code = errorCode(error)
  if (code === 286 || code === 136) return true
  return code === 280 && /no longer be in the oplog|resume point may no longer/i.test(messageOf(error))
}

/**
 * The stored token is not a position of this stream: 280 "the resume token was not found"
 * (a source name reused for another collection, or a token from another deployment), or 260
 * InvalidResumeToken (not a token at all).
 */
export function isForeignToken(error: unknown): boolean {
  const code = errorCode(error)
  return code === 260 || (code === 280 && /resume token was not found/i.test(messageOf(error)))
}

/**
 * The pipeline changed or removed `_id` (the resume token): 280 from the server, or the
 * driver's own check when `_id` is missing altogether.
 */
export function isModifiedId(error: unknown): boolean {
  const message = messageOf(error)
  if (errorCode(error) === 280 && /_id field.*modified by the pipeline/is.test(message)) return true
  return /resume token is missing/i.test(message)
}

/** 47 NoMatchingDocument: a pre- or post-image the stream requires is not there. */
export function isMissingImage(error: unknown): boolean {
  return errorCode(error) === 47
}

/** 10334 BSONObjectTooLarge: one change event is over the 16 MB document limit. */
export function isTooLarge(error: unknown): boolean {
  return errorCode(error) === 10334 || /BSONObj size: \d+ .* is invalid/.test(messageOf(error))
}

/** 40573: `$changeStream` is only supported on replica sets. */
export function isStandalone(error: unknown): boolean {
  return errorCode(error) === 40573
}

/** The error a source fails with on a server that cannot run change streams. */
export function replicaSetRequired(cause?: unknown): RtError {
  return new RtError(
    'replica_set_required',
    'MongoDB change streams need a replica set, and this server is a standalone. ' +
      'Start mongod with `--replSet rs0` and run `rs.initiate()` once in mongosh ' +
      '(a single-node replica set is enough), then connect with `?replicaSet=rs0`.',
    { cause },
  )
}

/** A short, credential-free description of an error for status pages. */
export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = errorCode(error)
    return code === undefined ? error.message : `${error.message} (code ${code})`
  }
  return String(error)
}
