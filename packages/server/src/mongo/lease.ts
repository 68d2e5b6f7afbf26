/**
 * Leader election over a {@link LeaseStore}: the holder renews its lease; the others try
 * to take it over at the same pace, so one takes over within about one TTL of the
 * holder's death.
 * @module
 */
import type { MongoTimers } from './timers.js'
import type { LeaseStore } from './token-store.js'

/** Options of the `lease` of `mongoChangeStream`. */
export interface LeaseOptions {
  /**
   * How long the lease lasts without renewal: after the holder dies, another node takes
   * over within `ttlMs + renewMs`.
   * @default 10_000
   */
  ttlMs?: number
  /** How often the holder renews and the others try to take over. @default ttlMs / 3 */
  renewMs?: number
  /** This node's name in the lease document. @default a random UUID */
  holder?: string
}

/** Callbacks and settings of {@link createLeader}. */
export interface LeaderConfig {
  readonly store: LeaseStore
  readonly name: string
  readonly holder: string
  readonly ttlMs: number
  readonly renewMs: number
  readonly timers: MongoTimers
  /** Called once the lease is ours: start the work. */
  onAcquire(): void
  /** Called when the lease is lost or about to expire unrenewed: stop the work. */
  onLose(): Promise<void>
  onError(error: unknown): void
}

/** A running election; see {@link createLeader}. */
export interface Leader {
  /** Whether this node holds the lease (as far as it knows). */
  readonly held: boolean
  /** Makes a first attempt, then keeps trying or renewing every `renewMs`. */
  start(): Promise<void>
  /** Stops trying and renewing; waits for an attempt in flight. Keeps the lease. */
  pause(): Promise<void>
  /** Gives the lease up, if held. */
  release(): Promise<void>
}

/** Runs the acquire/renew cycle of one lease. */
export function createLeader(config: LeaderConfig): Leader {
  const { store, name, holder, ttlMs, renewMs, timers } = config
  let held = false
  let running = false
  let handle: unknown = null
  let inFlight: Promise<void> = Promise.resolve()
  /** Local deadline: past it another node may hold the lease. */
  let expiresAt = 0

  async function lose(): Promise<void> {
    held = false
    await config.onLose()
  }

  async function attempt(): Promise<void> {
    const at = timers.now()
    try {
      const ok = held ? await store.renew(name, holder, ttlMs) : await store.acquire(name, holder, ttlMs)
      if (!running) {
        // Stopped while asking: if we just took the lease, the release that follows gives it back.
        held = held || ok
        return
      }
      if (ok) {
        expiresAt = at + ttlMs
        if (!held) {
          held = true
          config.onAcquire()
        }
      } else if (held) {
        await lose()
      }
    } catch (error) {
      config.onError(error)
      // Could not renew: stop before the lease can expire under us.
      if (held && timers.now() + renewMs >= expiresAt) await lose()
    }
  }

  function schedule(): void {
    if (!running) return
    handle = timers.setTimeout(() => {
      handle = null
      inFlight = attempt().finally(schedule)
    }, renewMs)
  }

  return {
    get held() {
      return held
    },
    async start() {
      if (running) return
      running = true
      inFlight = attempt()
      await inFlight
      schedule()
    },
    async pause() {
      running = false
      if (handle !== null) {
        timers.clearTimeout(handle)
        handle = null
      }
      await inFlight
    },
    async release() {
      if (!held) return
      held = false
      await store.release(name, holder)
    },
  }
}
