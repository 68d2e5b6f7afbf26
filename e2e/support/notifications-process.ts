/**
 * The notifications example as its own process (`examples/notifications/server/main.ts`,
 * serving the `next build` output), so a test can stop it and start it again on the same
 * port, and log in as its users in Chromium. The first start of a checkout builds the app
 * (about 25 s on two cores); later starts reuse the build until a source changes.
 */
import { type ExampleOptions, type ExampleProcess, startExampleProcess } from './example-process.js'

export { logIn } from './example-process.js'

export type NotificationsProcess = ExampleProcess

export function startNotificationsProcess(options: ExampleOptions = {}): Promise<NotificationsProcess> {
  return startExampleProcess('notifications', {
    ...options,
    env: { NEXT_TELEMETRY_DISABLED: '1', NOTIFICATIONS_HEARTBEAT_MS: '1000', ...options.env },
    listening: /notifications \(\w+\): http:\/\/localhost:(\d+)/,
    startMs: 150_000,
  })
}

/** The session cookie of `userId` (the dev login), for requests made by the test itself. */
export async function sessionOf(origin: string, userId: string): Promise<string> {
  const res = await fetch(`${origin}/api/login`, {
    method: 'POST',
    body: new URLSearchParams({ userId }),
    redirect: 'manual',
  })
  if (res.status !== 303) throw new Error(`login as ${userId} failed with ${res.status}`)
  return (res.headers.get('set-cookie') ?? '').split(';')[0] as string
}

/** Inserts a notification as the admin whose cookie is `admin`; resolves to its id. */
export async function send(
  origin: string,
  admin: string,
  body: { title: string; body?: string; level?: string; to: { userId: string } | { role: string } },
): Promise<string> {
  const res = await fetch(`${origin}/api/notifications`, {
    method: 'POST',
    headers: { cookie: admin, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (res.status !== 201) throw new Error(`send failed with ${res.status}: ${await res.text()}`)
  return ((await res.json()) as { notification: { id: string } }).notification.id
}

/** Snapshots the server served so far: by page renders and by the API (`useLiveState` refetches). */
export async function snapshotCounts(origin: string): Promise<{ page: number; api: number }> {
  const res = await fetch(`${origin}/api/stats`)
  return ((await res.json()) as { snapshots: { page: number; api: number } }).snapshots
}
