import type { Document } from 'bson'

/** Names of the server error codes the simulator produces or is commonly asked to inject. */
const CODE_NAMES: Record<number, string> = {
  1: 'InternalError',
  2: 'BadValue',
  6: 'HostUnreachable',
  9: 'FailedToParse',
  11: 'UserNotFound',
  13: 'Unauthorized',
  26: 'NamespaceNotFound',
  43: 'CursorNotFound',
  48: 'NamespaceExists',
  50: 'MaxTimeMSExpired',
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
  189: 'PrimarySteppedDown',
  237: 'CursorKilled',
  251: 'NoSuchTransaction',
  260: 'InvalidResumeToken',
  262: 'ExceededTimeLimit',
  280: 'ChangeStreamFatalError',
  286: 'ChangeStreamHistoryLost',
  10107: 'NotWritablePrimary',
  11000: 'DuplicateKey',
  11600: 'InterruptedAtShutdown',
  11602: 'InterruptedDueToReplStateChange',
  13435: 'NotPrimaryNoSecondaryOk',
  13436: 'NotPrimaryOrSecondary',
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
