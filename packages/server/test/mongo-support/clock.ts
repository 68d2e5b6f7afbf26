/**
 * A manual clock implementing `MongoTimers`: tests move time instead of sleeping.
 */
import type { MongoTimers } from '../../src/mongo/timers.js'

export interface ManualClock {
  readonly timers: MongoTimers
  /** Timers waiting to fire. */
  readonly pending: number
  /** Moves time forward by `ms`, firing due timers in order and letting their promises settle. */
  advance(ms: number): Promise<void>
  /** Lets pending promise callbacks and I/O run. */
  settle(): Promise<void>
}

export function manualClock(start = 1_000_000): ManualClock {
  let now = start
  let nextId = 1
  const due = new Map<number, { at: number; fn: () => void }>()
  const settle = async () => {
    for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve))
  }
  return {
    timers: {
      setTimeout(fn, ms) {
        const id = nextId++
        due.set(id, { at: now + ms, fn })
        return id
      },
      clearTimeout(handle) {
        due.delete(handle as number)
      },
      now: () => now,
    },
    get pending() {
      return due.size
    },
    settle,
    async advance(ms) {
      const end = now + ms
      await settle()
      for (;;) {
        let first: [number, { at: number; fn: () => void }] | undefined
        for (const entry of due)
          if (entry[1].at <= end && (first === undefined || entry[1].at < first[1].at)) first = entry
        if (first === undefined) break
        due.delete(first[0])
        now = Math.max(now, first[1].at)
        first[1].fn()
        await settle()
      }
      now = end
      await settle()
    },
  }
}
