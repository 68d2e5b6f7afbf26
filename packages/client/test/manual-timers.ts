/**
 * Timers that run only when a test says so, injected through the client's `timers` option:
 * time is virtual, while everything else (promises, streams, sockets) runs for real.
 */
import type { Timers } from '../src/types.js'

export interface ManualTimers {
  readonly timers: Timers
  /** Virtual milliseconds elapsed. */
  readonly now: number
  /** Timers waiting to run. */
  readonly pending: number
  /** Delay of the earliest pending timer from now, or `undefined`. */
  nextDelay(): number | undefined
  /** Moves time forward by `ms`, running due timers in order and letting I/O settle after each. */
  advance(ms: number): Promise<void>
}

/** Lets pending promise chains and I/O callbacks run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

export function manualTimers(): ManualTimers {
  let now = 0
  let seq = 0
  const pending = new Map<number, { at: number; fn: () => void }>()
  const earliest = () => {
    let best: [number, { at: number; fn: () => void }] | undefined
    for (const entry of pending) if (best === undefined || entry[1].at < best[1].at) best = entry
    return best
  }
  return {
    timers: {
      setTimeout(fn, ms) {
        seq++
        pending.set(seq, { at: now + Math.max(0, ms), fn })
        return seq
      },
      clearTimeout(handle) {
        pending.delete(handle as number)
      },
    },
    get now() {
      return now
    },
    get pending() {
      return pending.size
    },
    nextDelay() {
      const next = earliest()
      return next === undefined ? undefined : next[1].at - now
    },
    async advance(ms) {
      const until = now + ms
      await settle()
      for (;;) {
        const next = earliest()
        if (next === undefined || next[1].at > until) break
        pending.delete(next[0])
        now = next[1].at
        next[1].fn()
        await settle()
      }
      now = until
    },
  }
}
