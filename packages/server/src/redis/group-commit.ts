/**
 * Group commit: items that arrive in the same tick, or while the previous group is in
 * flight, are sent as one command, and each caller gets its own reply or error back.
 * @module
 */

/** What one group's command answered for each of its items, in order: a value or an error. */
export type GroupReplies<R> = readonly (R | Error)[]

export interface GroupCommit<T, R> {
  /** Queues `item` (`size` bytes) for the next group; resolves with its own reply. */
  add(item: T, size: number): Promise<R>
  /** Sends what is queued now, in order, so a command sent next goes after it. */
  flush(): void
}

interface Waiting<T, R> {
  item: T
  resolve(value: R): void
  reject(error: unknown): void
}

/**
 * `send` must issue its command synchronously (before its first `await`): groups then
 * reach the connection in the order they were taken, so items keep the order of `add`.
 */
export function groupCommit<T, R>(
  send: (items: T[]) => Promise<GroupReplies<R>>,
  maxItems: number,
  maxBytes: number,
): GroupCommit<T, R> {
  let queue: Waiting<T, R>[] = []
  let bytes = 0
  let scheduled = false
  let inFlight = 0

  function dispatch(group: Waiting<T, R>[]): void {
    inFlight++
    let sent: Promise<GroupReplies<R>>
    try {
      sent = send(group.map((w) => w.item))
    } catch (error) {
      sent = Promise.reject(error)
    }
    sent.then(
      (replies) => {
        if (replies.length !== group.length) {
          const error = new Error(`group commit: ${replies.length} replies for ${group.length} items`)
          for (const w of group) w.reject(error)
          return
        }
        group.forEach((w, i) => {
          const reply = replies[i] as R | Error
          if (reply instanceof Error) w.reject(reply)
          else w.resolve(reply)
        })
      },
      (error: unknown) => {
        for (const w of group) w.reject(error)
      },
    )
    void sent
      .catch(() => {})
      .finally(() => {
        inFlight--
        // What queued up meanwhile goes as the next group.
        if (queue.length > 0) schedule()
      })
  }

  function flush(): void {
    scheduled = false
    if (queue.length === 0) return
    const group = queue
    queue = []
    bytes = 0
    dispatch(group)
  }

  function schedule(): void {
    if (scheduled) return
    scheduled = true
    setImmediate(() => {
      if (scheduled) flush()
    })
  }

  return {
    add(item, size) {
      return new Promise<R>((resolve, reject) => {
        // Full: what is queued goes now, this item starts the next group.
        if (queue.length > 0 && (queue.length >= maxItems || bytes + size > maxBytes)) flush()
        queue.push({ item, resolve, reject })
        bytes += size
        if (queue.length >= maxItems || bytes >= maxBytes) flush()
        else if (inFlight === 0) schedule()
      })
    },
    flush,
  }
}
