/**
 * Checks an ack against the log: an identity may acknowledge only ids it was allowed to
 * receive. What the log no longer holds cannot be checked and is reported as such.
 * @module
 */
import { addressedTo, type Log, type LogEntry } from './log.js'
import type { Identity } from './types.js'

/** The ids of an ack, sorted by what the log says about them. */
export interface VerifiedAck {
  /** In the log, and the identity was allowed to receive them. */
  readonly verified: readonly string[]
  /** Not (or no longer) in the log, or the log cannot look ids up: the client's word only. */
  readonly unverified: readonly string[]
}

/** Whether `identity` may receive `entry`: its topic is authorized and `to` (if any) names it. */
async function mayReceive<Id extends Identity>(
  entry: LogEntry,
  identity: Id,
  authorized: (topic: string) => Promise<boolean>,
): Promise<boolean> {
  if (!addressedTo(entry, identity.userId)) return false
  return authorized(entry.topic)
}

/**
 * Sorts acknowledged ids into verified and unverified ones; ids of entries the identity was
 * not allowed to receive are left out. `authorize` is asked once per topic.
 */
export async function verifyAck<Id extends Identity>(
  log: Log,
  identity: Id,
  ids: readonly string[],
  authorize: (identity: Id, topic: string) => boolean | Promise<boolean>,
): Promise<VerifiedAck> {
  if (log.lookup === undefined) return { verified: [], unverified: ids }
  const entries = await log.lookup(ids)
  const verdicts = new Map<string, Promise<boolean>>()
  const authorized = (topic: string) => {
    let verdict = verdicts.get(topic)
    if (verdict === undefined) {
      verdict = Promise.resolve(authorize(identity, topic)).then((ok) => ok === true)
      verdicts.set(topic, verdict)
    }
    return verdict
  }
  const verified: string[] = []
  const unverified: string[] = []
  const allowed = await Promise.all(
    ids.map((id, i) => {
      const entry = entries[i]
      return entry === undefined || entry.id !== id ? null : mayReceive(entry, identity, authorized)
    }),
  )
  for (const [i, id] of ids.entries()) {
    const verdict = allowed[i]
    if (verdict === null) unverified.push(id)
    else if (verdict === true) verified.push(id)
  }
  return { verified, unverified }
}
