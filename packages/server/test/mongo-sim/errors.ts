import type { Document } from 'bson'

/** Names of the server error codes the simulator produces or is commonly asked to inject. */
const CODE_NAMES: Record<number, string> = {
  1: 'InternalError',
  2: 'BadValue',
  6: 'HostUnreachable',
  7: 'HostNotFound',
  9: 'FailedToParse',
  11: 'UserNotFound',
  13: 'Unauthorized',
  26: 'NamespaceNotFound',
  43: 'CursorNotFound',
  48: 'NamespaceExists',
  47: 'NoMatchingDocument',
  50: 'MaxTimeMSExpired',
  63: 'StaleShardVersion',
  59: 'CommandNotFound',
  66: 'ImmutableField',
  76: 'NoReplicationEnabled',
  85: 'IndexOptionsConflict',
  86: 'IndexKeySpecsConflict',
  89: 'NetworkTimeout',
  91: 'ShutdownInProgress',
  112: 'WriteConflict',
  115: 'CommandNotSupported',
  133: 'FailedToSatisfyReadPreference',
  136: 'CappedPositionLost',
  150: 'StaleEpoch',
  189: 'PrimarySteppedDown',
  234: 'RetryChangeStream',
  237: 'CursorKilled',
  251: 'NoSuchTransaction',
  260: 'InvalidResumeToken',
  262: 'ExceededTimeLimit',
  280: 'ChangeStreamFatalError',
  286: 'ChangeStreamHistoryLost',
  9001: 'SocketException',
  10334: 'BSONObjectTooLarge',
  10107: 'NotWritablePrimary',
  11000: 'DuplicateKey',
  11600: 'InterruptedAtShutdown',
  11602: 'InterruptedDueToReplStateChange',
  13388: 'StaleConfig',
  13435: 'NotPrimaryNoSecondaryOk',
  13436: 'NotPrimaryOrSecondary',
}

/**
 * Codes a 4.4+ server labels `ResumableChangeStreamError` when a change stream's `getMore` fails
 * with them (the list drivers used before servers labelled errors themselves).
 */
const RESUMABLE_CODES: ReadonlySet<number> = new Set([
  6, 7, 43, 63, 89, 91, 133, 150, 189, 234, 262, 9001, 10107, 11600, 11602, 13388, 13435, 13436,
])

/** The labels a server adds to an error on a change stream's `getMore`. */
export function changeStreamLabels(code: number): string[] {
  if (code === 280 || code === 286) return ['NonResumableChangeStreamError']
  return RESUMABLE_CODES.has(code) ? ['ResumableChangeStreamError'] : []
}

/** The server's name for an error code (`Location<code>` for assertion codes without one). */
export function codeName(code: number): string {
  return CODE_NAMES[code] ?? `Location${code}`
}

/** A command failure, answered as `{ ok: 0, errmsg, code, codeName, errorLabels }`. */
export class CommandError extends Error {
  override readonly name = 'CommandError'
  constructor(
    readonly code: number,
    message: string,
    readonly labels: readonly string[] = [],
    /** Extra top-level reply fields (e.g. `keyPattern` and `keyValue` for 11000). */
    readonly extra: Document = {},
    readonly codeNameOverride?: string,
  ) {
    super(message)
  }

  /** The reply document a server sends for this error. */
  toReply(): Document {
    const reply: Document = {
      ok: 0,
      errmsg: this.message,
      code: this.code,
      codeName: this.codeNameOverride ?? codeName(this.code),
      ...this.extra,
    }
    if (this.labels.length > 0) reply.errorLabels = [...this.labels]
    return reply
  }
}

/** The `writeErrors[]` entry for a failed statement of a write command. */
export function writeError(index: number, error: CommandError): Document {
  return { index, code: error.code, errmsg: error.message, ...error.extra }
}
