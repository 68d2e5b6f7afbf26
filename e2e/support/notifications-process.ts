/**
 * The notifications example as its own process (`examples/notifications/server/main.ts`,
 * serving the `next build` output), so a test can stop it and start it again on the same
 * port, and log in as its users in Chromium. The first start of a checkout builds the app
 * (about 25 s on two cores); later starts reuse the build until a source changes.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'

const root = join(import.meta.dirname, '..', '..')

export interface NotificationsProcess {
  readonly origin: string
  readonly port: number
  /** Everything it printed. */
  output(): string
  /** Resolves with the exit code once it exited. */
  readonly exited: Promise<number | null>
  /** SIGTERM, and waits for the process to exit. */
  stop(): Promise<void>
}

export async function startNotificationsProcess(
  options: { port?: number; env?: Record<string, string> } = {},
): Promise<NotificationsProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@rt/source', 'examples/notifications/server/main.ts'],
    {
      cwd: root,
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        NEXT_TELEMETRY_DISABLED: '1',
        HOST: '127.0.0.1',
        PORT: String(options.port ?? 0),
        STRICT_PORT: options.port === undefined ? '0' : '1',
        NOTIFICATIONS_HEARTBEAT_MS: '1000',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8')
  }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`notifications did not start within 150 s:\n${output}`)), 150_000)
    const check = () => {
      const found = output.match(/notifications \(\w+\): http:\/\/localhost:(\d+)/)
      if (found === null) return
      clearTimeout(timer)
      resolve(Number(found[1]))
    }
    child.stdout?.on('data', check)
    void exited.then(() => {
      clearTimeout(timer)
      reject(new Error(`notifications exited before it listened:\n${output}`))
    })
  })
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await exited
    },
  }
}

/** Logs in as `userId` through the login form, in a new page of `context`. */
export async function logIn(context: BrowserContext, origin: string, userId: string): Promise<Page> {
  const page = await context.newPage()
  await page.goto(origin)
  await page.click(`[data-login="${userId}"]`, { timeout: 30_000 })
  await page.waitForSelector(`[data-me="${userId}"]`, { timeout: 30_000, state: 'attached' })
  return page
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
