/**
 * Who is connected to which topic, and the `rt.presence` events that tell watchers.
 * @module
 */
import type { Connection } from './connection.js'
import { addTo, removeFrom } from './set-map.js'
import { ControlEvent, encodeControl } from './wire.js'

/** A user came online on a topic, or went offline. */
export interface PresenceChange {
  readonly topic: string
  readonly joined?: string | undefined
  readonly left?: string | undefined
}

/**
 * Shares presence between nodes (`redisPresence` from `@rt/server/redis`). The hub calls
 * `join` when a user opens their first stream to a topic on this node and `leave` when
 * they close their last there; the backend tells subscribers about cluster-wide changes
 * only: a user's first stream anywhere, their last stream everywhere.
 */
export interface PresenceBackend {
  /** Must not throw; a backend retries or resynchronises on its own. */
  join(topic: string, userId: string): void
  /** Must not throw; a backend retries or resynchronises on its own. */
  leave(topic: string, userId: string): void
  /** User ids with at least one open stream to `topic` on any node. */
  online(topic: string): Promise<string[]>
  /**
   * Listens for cluster-wide changes. `onResync` is called when changes may have been
   * missed (a lost connection), so watchers get a fresh snapshot.
   */
  subscribe(listener: (change: PresenceChange) => void, onResync?: () => void): () => void
  /** Leaves every topic this node joined and releases the backend's resources. */
  close?(): Promise<void>
}

/**
 * Counts open streams per topic and user. A user joins a topic with their first stream
 * to it and leaves with their last, so several tabs do not flap. Anonymous streams are
 * not counted; long-poll requests are not streams and are not counted either.
 *
 * With a backend, the local counts feed it and watchers are told what it reports.
 */
export class PresenceTracker {
  private readonly counts = new Map<string, Map<string, number>>()
  private readonly watchers = new Map<string, Set<Connection>>()
  /**
   * With a backend: who is online per watched topic, from one snapshot plus the changes
   * since, so watchers get snapshots without a round trip and no change twice.
   * `online` is null while the snapshot loads; changes wait in `held` meanwhile.
   */
  private readonly views = new Map<string, { online: Set<string> | null; held: PresenceChange[] }>()
  private readonly unsubscribe: () => void

  constructor(
    private readonly send: (conn: Connection, bytes: Uint8Array) => void,
    private readonly backend?: PresenceBackend,
  ) {
    this.unsubscribe =
      backend?.subscribe(
        (change) => this.changed(change),
        () => this.resync(),
      ) ?? (() => {})
  }

  /** User ids with at least one open stream to `topic` (on any node, with a backend). */
  online(topic: string): string[] | Promise<string[]> {
    return this.backend === undefined ? this.local(topic) : this.backend.online(topic)
  }

  add(conn: Connection): void {
    const userId = conn.userId
    for (const topic of conn.topics) {
      // Dropped by a send below (its snapshot overflowed it): `remove` already ran.
      if (conn.state === 'closed') return
      if (userId !== undefined) {
        let users = this.counts.get(topic)
        if (users === undefined) {
          users = new Map()
          this.counts.set(topic, users)
        }
        const count = (users.get(userId) ?? 0) + 1
        users.set(userId, count)
        // Told before the new stream watches: its own snapshot already includes itself.
        if (count === 1) {
          if (this.backend === undefined) this.broadcast(topic, { topic, joined: userId })
          else this.backend.join(topic, userId)
        }
      }
      if (conn.presence) {
        addTo(this.watchers, topic, conn)
        this.snapshot(conn, topic)
      }
    }
  }

  remove(conn: Connection): void {
    const userId = conn.userId
    for (const topic of conn.topics) {
      if (conn.presence && removeFrom(this.watchers, topic, conn)) this.views.delete(topic)
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
      if (this.backend === undefined) this.broadcast(topic, { topic, left: userId })
      else this.backend.leave(topic, userId)
    }
  }

  /** Stops listening to the backend and closes it. */
  async close(): Promise<void> {
    this.unsubscribe()
    await this.backend?.close?.()
  }

  private local(topic: string): string[] {
    return [...(this.counts.get(topic)?.keys() ?? [])]
  }

  private snapshot(conn: Connection, topic: string): void {
    if (this.backend === undefined) {
      this.send(conn, encodeControl(ControlEvent.presence, { topic, online: this.local(topic) }))
      return
    }
    const view = this.views.get(topic)
    if (view === undefined) this.load(topic)
    else if (view.online !== null) {
      this.send(conn, encodeControl(ControlEvent.presence, { topic, online: [...view.online] }))
    }
    // Otherwise the snapshot loading now is sent to every watcher of the topic.
  }

  /** Loads a topic's snapshot from the backend, then tells every watcher of it. */
  private load(topic: string): void {
    const view = { online: null as Set<string> | null, held: [] as PresenceChange[] }
    this.views.set(topic, view)
    const backend = this.backend as PresenceBackend
    backend
      .online(topic)
      .catch(() => this.local(topic))
      .then((users) => {
        if (this.views.get(topic) !== view) return
        const online = new Set(users)
        for (const change of view.held) apply(online, change)
        view.online = online
        view.held = []
        const bytes = encodeControl(ControlEvent.presence, { topic, online: [...online] })
        for (const conn of this.watchers.get(topic) ?? []) this.send(conn, bytes)
      })
  }

  /** Changes may have been missed: every watched topic is loaded again. */
  private resync(): void {
    for (const topic of this.views.keys()) this.load(topic)
  }

  private changed(change: PresenceChange): void {
    const view = this.views.get(change.topic)
    if (view === undefined) return
    if (view.online === null) view.held.push(change)
    else if (apply(view.online, change)) this.broadcast(change.topic, change)
  }

  private broadcast(topic: string, change: PresenceChange): void {
    const set = this.watchers.get(topic)
    if (set === undefined || set.size === 0) return
    const data = change.joined !== undefined ? { topic, joined: change.joined } : { topic, left: change.left }
    const bytes = encodeControl(ControlEvent.presence, data)
    for (const conn of set) this.send(conn, bytes)
  }
}

/** Applies a change to a set of online users; true when it changed anything. */
function apply(online: Set<string>, change: PresenceChange): boolean {
  if (change.joined !== undefined) {
    if (online.has(change.joined)) return false
    online.add(change.joined)
    return true
  }
  if (change.left === undefined || !online.has(change.left)) return false
  online.delete(change.left)
  return true
}
