/**
 * A failure the simulator applies to the next command named `on` instead of (or on top of) running it.
 *
 * An `error` on a change stream's `getMore` without `labels` gets the labels a 4.4+ server adds
 * itself: `ResumableChangeStreamError` on the codes it labels resumable (network, not-primary,
 * shutdown, stale-config), `NonResumableChangeStreamError` on 280 and 286. Pass `labels: []` to
 * send an error with no label at all.
 *
 * @example
 * sim.fault({ on: 'getMore', error: { code: 91, labels: ['ResumableChangeStreamError'] } })
 * sim.fault({ on: 'getMore', drop: true })
 */
export type MongoSimFault =
  | { on: string; error: { code: number; codeName?: string; message?: string; labels?: string[] } }
  /** Destroy the socket instead of replying (the command is not run). */
  | { on: string; drop: true }
  /** Run the command, then reply after this many milliseconds. */
  | { on: string; delayMs: number }
  /** Reply with cursor id 0, as when the server closed the cursor. */
  | { on: 'getMore'; cursorId0: true }
  /**
   * Move a change cursor back this many log positions before answering, so changes already
   * returned come again: what a driver that resumed from an older token than it should
   * (NODE-7042) receives.
   */
  | { on: 'getMore'; replay: number }

/** Queued faults, each used once by the first command that matches it. */
export class FaultQueue {
  private readonly queue: MongoSimFault[] = []

  add(fault: MongoSimFault): void {
    this.queue.push(fault)
  }

  /** Removes and returns the first fault for the command `name` (case-insensitive). */
  take(name: string): MongoSimFault | undefined {
    const lower = name.toLowerCase()
    const at = this.queue.findIndex((f) => f.on.toLowerCase() === lower)
    return at < 0 ? undefined : this.queue.splice(at, 1)[0]
  }
}
