/**
 * Putting the fragments of `$changeStreamSplitLargeEvent` back together into one change.
 * @module
 */
import type { Document } from 'mongodb'
import { RtError } from '../index.js'

/** A fragment's `splitEvent`: its number (from 1) and how many there are. */
interface SplitEvent {
  readonly fragment: number
  readonly of: number
}

function splitOf(change: Document): SplitEvent | undefined {
  const split = change.splitEvent as Partial<SplitEvent> | undefined
  if (split === undefined) return undefined
  const { fragment, of } = split
  if (
    !Number.isInteger(fragment) ||
    !Number.isInteger(of) ||
    (fragment as number) < 1 ||
    (fragment as number) > (of as number)
  ) {
    throw new RtError('internal', `change stream: malformed splitEvent ${JSON.stringify(split)}`)
  }
  return split as SplitEvent
}

/** Collects fragments; see {@link createAssembler}. */
export interface Assembler {
  /** True while some fragments of an event have arrived but not the last. */
  readonly pending: boolean
  /**
   * The whole change once its last fragment arrived, the change itself when it was not
   * split, or null while fragments are missing. Throws on a fragment out of order (the
   * stream must then be reopened from the last checkpoint, which is never mid-event).
   */
  push(change: Document): Document | null
  reset(): void
}

/**
 * Fields of every fragment in order, without `splitEvent`; the `_id` is the last
 * fragment's, so the checkpoint after the change resumes past all of it.
 */
export function createAssembler(): Assembler {
  let parts: Document[] = []
  return {
    get pending() {
      return parts.length > 0
    },
    push(change) {
      const split = splitOf(change)
      if (split === undefined) {
        if (parts.length > 0) throw outOfOrder('an unsplit change', parts.length)
        return change
      }
      if (split.fragment !== parts.length + 1) throw outOfOrder(`fragment ${split.fragment}`, parts.length)
      parts.push(change)
      if (split.fragment < split.of) return null
      const whole: Document = {}
      for (const part of parts) {
        for (const [key, value] of Object.entries(part)) if (key !== 'splitEvent') whole[key] = value
      }
      parts = []
      return whole
    },
    reset() {
      parts = []
    },
  }
}

function outOfOrder(what: string, have: number): RtError {
  return new RtError('internal', `change stream: ${what} arrived after ${have} fragment(s) of a split event`)
}
