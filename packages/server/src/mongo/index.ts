/**
 * `@rt/server/mongo`: MongoDB change streams as hub sources, token stores with leases,
 * and a MongoDB-backed delivery log. Needs the `mongodb` driver (>= 7) as a peer; it is
 * loaded only through the objects you pass in (`Db`, `Collection`, `MongoClient`).
 * @module @rt/server/mongo
 */
export type { BackoffOptions } from './backoff.js'
export {
  type MapResult,
  type MongoChangeStreamOptions,
  type MongoChangeStreamSource,
  type MongoSourceStatus,
  mongoChangeStream,
  type SourceResetReason,
} from './change-stream.js'
export type { LeaseOptions } from './lease.js'
export { type MongoLogOptions, type MongoLogRetention, mongoLog } from './mongo-log.js'
export { type MongoTokenStoreOptions, mongoTokenStore } from './mongo-token-store.js'
export type { MongoTimers } from './timers.js'
export {
  type Checkpoint,
  type LeaseStore,
  type MemoryTokenStoreOptions,
  memoryTokenStore,
  type ResumeToken,
  type TokenStore,
} from './token-store.js'
