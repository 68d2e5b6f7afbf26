/**
 * Where a change stream keeps its position, and the lease that lets one node watch.
 * @module
 */
import { realTimers } from './timers.js'

/** A change stream resume token: an opaque document, `{ _data: '8265…' }` on MongoDB 4.2+. */
export type ResumeToken = Readonly<Record<string, unknown>>

/** What a token store keeps per source. */
export interface Checkpoint {
  /** The token to resume after: a change's `_id`, or a post-batch token. */
  readonly token: ResumeToken
  /** Cluster wall time of the last change read, ms since the epoch, when known. */
  readonly changeAt?: number | undefined
  /**
   * Topics the source published to, so a restarted source still knows whom to send
   * `rt.reset` when history turns out to be lost. Absent on save: unchanged.
   */
  readonly topics?: readonly string[] | undefined
}

/**
 * A lease: at most one holder per name at a time, for `ttlMs` after its last renewal.
 * Holders compare expiry times with their own clocks, so keep the TTL well above the
 * clock skew between nodes.
 */
export interface LeaseStore {
  /**
   * Takes the lease when it is free or expired, or renews it when `holder` already has it.
   * Resolves to whether `holder` now holds it.
   */
  acquire(name: string, holder: string, ttlMs: number): Promise<boolean>
  /** Extends a lease `holder` holds; resolves to false when it lost it to another holder. */
  renew(name: string, holder: string, ttlMs: number): Promise<boolean>
  /** Gives the lease up, if `holder` has it, so another node takes over at once. */
  release(name: string, holder: string): Promise<void>
}

/**
 * Persists change stream positions. `mongoTokenStore` and `memoryTokenStore` ship with
 * rt; a Redis store implements the same three methods.
 */
export interface TokenStore {
  /** The last saved checkpoint of source `name`, or null if there is none. */
  load(name: string): Promise<Checkpoint | null>
  /** Saves the checkpoint of source `name`. Called only after its events are in the log. */
  save(name: string, checkpoint: Checkpoint): Promise<void>
  /** Forgets the checkpoint of source `name`: its next start begins at "now". */
  clear(name: string): Promise<void>
  /** Leases for leader election; required by `mongoChangeStream({ lease })`. */
  readonly lease?: LeaseStore | undefined
  /**
   * The MongoDB collections the store writes to, as `'db.collection'`: a database- or
   * cluster-wide change stream leaves them out, so it does not read its own checkpoints.
   */
  readonly collections?: readonly string[] | undefined
}

/** Options of {@link memoryTokenStore}. */
export interface MemoryTokenStoreOptions {
  /** Clock for lease expiry. @default Date.now */
  now?: () => number
}

/**
 * A token store in process memory: positions survive `stop()`/`start()` but not a
 * restart. For tests, demos, and hubs whose log is in memory too.
 *
 * @example
 * ```ts
 * hub.attach(mongoChangeStream({ collection, map, tokens: memoryTokenStore() }))
 * ```
 */
export function memoryTokenStore(options: MemoryTokenStoreOptions = {}): TokenStore {
  const now = options.now ?? realTimers.now
  const checkpoints = new Map<string, Checkpoint>()
  const leases = new Map<string, { holder: string; expiresAt: number }>()
  return {
    async load(name) {
      return checkpoints.get(name) ?? null
    },
    async save(name, checkpoint) {
      const topics = checkpoint.topics ?? checkpoints.get(name)?.topics
      checkpoints.set(name, { ...checkpoint, topics })
    },
    async clear(name) {
      checkpoints.delete(name)
    },
    lease: {
      async acquire(name, holder, ttlMs) {
        const current = leases.get(name)
        if (current !== undefined && current.holder !== holder && current.expiresAt > now()) return false
        leases.set(name, { holder, expiresAt: now() + ttlMs })
        return true
      },
      async renew(name, holder, ttlMs) {
        const current = leases.get(name)
        if (current !== undefined && current.holder !== holder && current.expiresAt > now()) return false
        leases.set(name, { holder, expiresAt: now() + ttlMs })
        return true
      },
      async release(name, holder) {
        if (leases.get(name)?.holder === holder) leases.delete(name)
      },
    },
  }
}
