import type { Document } from 'bson'
import type { ChangeLog } from './changelog.js'
import type { Cursors } from './cursors.js'
import type { Store } from './store.js'

/** Everything a command handler may touch. */
export interface SimContext {
  readonly store: Store
  readonly log: ChangeLog
  readonly cursors: Cursors
  /** Replica set name, or `null` for a standalone server. */
  readonly setName: string | null
  /** `host:port` as the client dials it. */
  readonly host: string
  readonly connectionId: number
  /** `hello`'s `topologyVersion` when the simulator streams hello to monitors, else null. */
  readonly topologyVersion: Document | null
}

/** One command to run. */
export interface CommandCall {
  readonly db: string
  readonly name: string
  readonly body: Document
  /** Aborted when the connection or the simulator closes (ends a blocked `getMore`). */
  readonly signal: AbortSignal
  /** Fault: answer this `getMore` with cursor id 0 and forget the cursor. */
  readonly cursorId0: boolean
  /** Fault: move a change cursor back this many positions first. */
  readonly replay?: number
}

export type Handler = (ctx: SimContext, call: CommandCall) => Document | Promise<Document>
