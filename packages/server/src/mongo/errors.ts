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

/**
 * The change stream cannot resume from its token: the oplog no longer holds that point.
 * 286 is ChangeStreamHistoryLost (4.4+), 280 ChangeStreamFatalError (older servers).
 */
export function isHistoryLost(error: unknown): boolean {
  const code = errorCode(error)
  return code === 286 || code === 280
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
