/**
 * The app's server side in one object: the hub (`authenticate` reads the session cookie,
 * `authorize` allows the user's own topic only), the service, and the snapshot rule. The
 * server (`start.ts`) creates it and hands it to the Next.js routes and pages through
 * `lib/server.ts`.
 * @module
 */
import { createHub, type Hub, type Log, memoryLog, type RtRequest } from '@rt/server'
import type { Inbox, NotificationEvents, Snapshot, User } from '../shared/types.js'
import { userTopic } from '../shared/types.js'
import type { Store } from './repos/types.js'
import { createNotificationService, type NotificationService } from './service.js'
import { clearedCookie, readSession, sessionCookie } from './session.js'

/** Who a stream belongs to. */
export interface AppIdentity {
  readonly userId: string
}

export interface NotificationsApp {
  readonly mode: 'memory' | 'mongodb'
  readonly hub: Hub<NotificationEvents, AppIdentity>
  readonly service: NotificationService
  /** The user of a `Cookie` header, or `null` (no session, a tampered one, a removed user). */
  user(cookieHeader: string | null | undefined): Promise<User | null>
  /** `Set-Cookie` values to log in as `user`, and to log out. */
  loginCookie(user: User): string
  logoutCookie(): string
  /** The user's bell with the log position it reflects: `hub.head()` read BEFORE the data. */
  snapshot(user: User, via: 'page' | 'api'): Promise<Snapshot<Inbox>>
  /** Snapshots served, by caller: the hydration test proves the page refetches nothing. */
  readonly snapshots: { page: number; api: number }
  readonly onError: (error: unknown) => void
  close(): Promise<void>
}

export interface AppOptions {
  readonly mode: 'memory' | 'mongodb'
  readonly store: Store
  readonly secret: string
  /** @default memoryLog() */
  readonly log?: Log
  readonly heartbeatMs?: number | undefined
  readonly secureCookies?: boolean
  readonly onError?: (error: unknown) => void
}

export function createNotificationsApp(options: AppOptions): NotificationsApp {
  const { store, secret } = options
  const onError = options.onError ?? ((error: unknown) => console.error('notifications:', error))
  const hub = createHub<NotificationEvents, AppIdentity>({
    log: options.log ?? memoryLog({ capacity: 10_000 }),
    heartbeatMs: options.heartbeatMs,
    onError,
    authenticate: (req: RtRequest) => {
      const session = readSession(req.headers.get('cookie'), secret)
      return session === null ? null : { userId: session.userId }
    },
    // Your own topic, nothing else: a bell is personal.
    authorize: (identity, topic) => topic === userTopic(identity.userId),
  })
  const service = createNotificationService(store, hub)
  const snapshots = { page: 0, api: 0 }
  return {
    mode: options.mode,
    hub,
    service,
    async user(cookieHeader) {
      const session = readSession(cookieHeader, secret)
      return session === null ? null : service.user(session.userId)
    },
    loginCookie: (user) => sessionCookie({ userId: user.id, name: user.name }, secret, options.secureCookies === true),
    logoutCookie: clearedCookie,
    async snapshot(user, via) {
      snapshots[via]++
      // BEFORE the data: a notification inserted during the read is replayed after it.
      const cursor = hub.head()
      return { data: await service.inbox(user), cursor }
    },
    snapshots,
    onError,
    close: () => hub.close(),
  }
}
