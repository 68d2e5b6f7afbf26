/**
 * The client's position in the log, and the recent ids it has seen.
 * @module
 */

/** The resume position and a bounded memory of delivered ids. */
export interface Cursor {
  /** The id to resume after (`Last-Event-ID`). */
  readonly id: string | undefined
  /** Records an application event's id and moves to it; `false` if it was seen already. */
  take(id: string): boolean
  /** Moves without recording (control events, a long-poll answer's position). */
  move(id: string): void
  /** Forgets the seen ids (the server's log changed). */
  clear(): void
}

/**
 * Creates a cursor at `id` remembering the last `size` ids, so memory stays bounded
 * however long the client runs. Resuming by id means a duplicate can only come from
 * around a reconnect, never from far back.
 */
export function createCursor(id?: string, size = 1_000): Cursor {
  const seen = new Set<string>()
  const cursor: { -readonly [K in keyof Cursor]: Cursor[K] } = {
    id,
    take(next) {
      if (seen.has(next)) return false
      seen.add(next)
      // A Set iterates in insertion order: the first is the oldest.
      if (seen.size > size) seen.delete(seen.values().next().value as string)
      this.id = next
      return true
    },
    move(next) {
      this.id = next
    },
    clear() {
      seen.clear()
    },
  }
  return cursor
}
