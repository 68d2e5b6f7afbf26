/**
 * Which tab leads: a Web Lock held for as long as the tab leads, or, where Web Locks are
 * missing, heartbeats and claims over the tabs' BroadcastChannel (the lowest id wins).
 * @module
 */
import type { Timers } from '../types.js'

/** An election message, sent on the shared channel beside the relay's own. */
export type Vote = { readonly t: 'lead' | 'claim'; readonly from: string }

export interface Election {
  /** Feeds a message from the channel (the fallback listens; Web Locks need none). */
  hear(message: { t: string; from?: string; lead?: boolean }): void
  /** Leaves the election, stepping down first when leading. */
  stop(): void
}

/** How often the fallback's leader says so; three silent beats start a new election. */
const BEAT_MS = 1_000

/**
 * Runs for leadership of `name`: `lead()` is called when this tab wins and returns the
 * function that steps down.
 */
export function elect(
  name: string,
  me: string,
  post: (vote: Vote) => void,
  timers: Timers,
  lead: () => () => void,
): Election {
  let resign: (() => void) | undefined
  const locks = globalThis.navigator?.locks
  if (locks) {
    const ac = new AbortController()
    let release: () => void = () => {}
    locks
      .request(name, { signal: ac.signal }, () => {
        resign = lead()
        // Held until `stop`: closing the tab releases it too, and the next tab in line leads.
        return new Promise<void>((resolve) => {
          release = resolve
        })
      })
      .catch(() => {})
    return {
      hear() {},
      stop() {
        ac.abort()
        resign?.()
        release()
      },
    }
  }
  let timer: unknown
  let claiming = false
  /** Runs `fn` after `ms`, in place of what was due. */
  const after = (ms: number, fn: () => void) => {
    timers.clearTimeout(timer)
    timer = timers.setTimeout(fn, ms)
  }
  const beat = () => {
    post({ t: 'lead', from: me })
    after(BEAT_MS, beat)
  }
  /** Claims after `ms` of silence; a claim stands if no lower id claims within a quarter beat. */
  const watch = (ms: number) => {
    claiming = false
    after(ms, () => {
      claiming = true
      post({ t: 'claim', from: me })
      after(BEAT_MS / 4, () => {
        resign = lead()
        beat()
      })
    })
  }
  const stepDown = () => {
    resign?.()
    resign = undefined
  }
  watch(BEAT_MS / 4)
  return {
    hear({ t, from = '', lead: leaving }) {
      // A leader that leaves says so: no need to wait for its silence.
      if (t === 'bye' && leaving && !resign) watch(BEAT_MS / 4)
      if (t === 'lead') {
        if (resign && from < me) stepDown()
        if (!resign) watch(BEAT_MS * 3)
      }
      if (t === 'claim' || t === 'hi') {
        if (resign) post({ t: 'lead', from: me })
        else if (t === 'claim' && claiming && from < me) watch(BEAT_MS * 3)
      }
    },
    stop() {
      timers.clearTimeout(timer)
      stepDown()
    },
  }
}
