import type { Handler } from './context.js'
import { killCursors } from './cursors.js'
import { collMod, create, createIndexes, drop, dropDatabase, dropIndexes, renameCollection } from './ddl.js'
import { buildInfo, hello, ok, replSetGetStatus, serverStatus } from './handshake.js'
import { aggregate, count, distinct, find, getMore, listCollections, listDatabases, listIndexes } from './reads.js'
import { findAndModify, insert, remove, update } from './writes.js'

/** Every command the simulator answers, by lower-cased name (mongod accepts `isMaster` and `ismaster` alike). */
export const HANDLERS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ['hello', hello],
  ['ismaster', hello],
  ['ping', ok],
  ['buildinfo', buildInfo],
  ['serverstatus', serverStatus],
  ['replsetgetstatus', replSetGetStatus],
  ['endsessions', ok],
  ['killsessions', ok],
  ['refreshsessions', ok],
  ['committransaction', ok],
  ['aborttransaction', ok],
  ['killcursors', killCursors],
  ['getmore', getMore],
  ['aggregate', aggregate],
  ['find', find],
  ['count', count],
  ['distinct', distinct],
  ['insert', insert],
  ['update', update],
  ['delete', remove],
  ['findandmodify', findAndModify],
  ['createindexes', createIndexes],
  ['dropindexes', dropIndexes],
  ['listindexes', listIndexes],
  ['listcollections', listCollections],
  ['listdatabases', listDatabases],
  ['create', create],
  ['collmod', collMod],
  ['drop', drop],
  ['dropdatabase', dropDatabase],
  ['renamecollection', renameCollection],
])

/** Writes the driver retries with the same `lsid` + `txnNumber`; a retry gets the first reply back. */
export const RETRYABLE_WRITES = new Set(['insert', 'update', 'delete', 'findandmodify'])
