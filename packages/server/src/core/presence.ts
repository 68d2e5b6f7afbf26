/**
 * Who is connected to which topic, and the `rt.presence` events that tell watchers.
 * @module
 */
import type { Connection } from './connection.js'
import { ControlEvent, encodeControl } from './wire.js'

/**
 * Counts open streams per topic and user. A user joins a topic with their first stream
 * to it and leaves with their last, so several tabs do not flap. Anonymous streams are
 * not counted; long-poll requests are not streams and are not counted either.
 */
export class PresenceTracker {
  private readonly counts = new Map<string, Map<string, number>>()
  private readonly watchers = new Map<string, Set<Connection>>()

  constructor(private readonly send: (conn: Connection, bytes: Uint8Array) => void) {}

  /** User ids with at least one open stream to `topic`. */
  online(topic: string): string[] {
    return [...(this.counts.get(topic)?.keys() ?? [])]
  }

  add(conn: Connection): void {
    const userId = conn.userId
    for (const topic of conn.topics) {
      if (userId !== undefined) {
        let users = this.counts.get(topic)
        if (users === undefined) {
          users = new Map()
          this.counts.set(topic, users)
        }
        const count = (users.get(userId) ?? 0) + 1
        users.set(userId, count)
        // Told before the new stream watches: its own snapshot already includes itself.
        if (count === 1) this.broadcast(topic, { topic, joined: userId })
      }
      if (conn.presence) {
        let set = this.watchers.get(topic)
        if (set === undefined) {
          set = new Set()
          this.watchers.set(topic, set)
        }
        set.add(conn)
        this.send(conn, encodeControl(ControlEvent.presence, { topic, online: this.online(topic) }))
      }
    }
  }

  remove(conn: Connection): void {
    const userId = conn.userId
    for (const topic of conn.topics) {
      if (conn.presence) {
        const set = this.watchers.get(topic)
        set?.delete(conn)
        if (set?.size === 0) this.watchers.delete(topic)
      }
      if (userId === undefined) continue
      const users = this.counts.get(topic)
      const count = (users?.get(userId) ?? 0) - 1
      if (users === undefined || count < 0) continue
      if (count > 0) {
        users.set(userId, count)
        continue
      }
      users.delete(userId)
      if (users.size === 0) this.counts.delete(topic)
      this.broadcast(topic, { topic, left: userId })
    }
  }

  private broadcast(topic: string, data: { topic: string; joined?: string; left?: string }): void {
    const set = this.watchers.get(topic)
    if (set === undefined || set.size === 0) return
    const bytes = encodeControl(ControlEvent.presence, data)
    for (const conn of set) this.send(conn, bytes)
  }
}
