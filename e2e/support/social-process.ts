/**
 * The social example as its own process (`examples/social/server/main.ts`), and helpers to
 * sign in as its users in Chromium or over plain HTTP.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'

const root = join(import.meta.dirname, '..', '..')

export interface SocialProcess {
  readonly origin: string
  /** Everything it printed. */
  output(): string
  /** SIGTERM, and waits for the process to exit. */
  stop(): Promise<void>
}

export async function startSocialProcess(options: { env?: Record<string, string> } = {}): Promise<SocialProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@rt/source', 'examples/social/server/main.ts'],
    {
      cwd: root,
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        HOST: '127.0.0.1',
        PORT: '0',
        SOCIAL_HEARTBEAT_MS: '1000',
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
  const exited = once(child, 'exit')
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`social did not start within 90 s:\n${output}`)), 90_000)
    const check = () => {
      const found = output.match(/http:\/\/localhost:(\d+)/)
      if (found === null) return
      clearTimeout(timer)
      resolve(Number(found[1]))
    }
    child.stdout?.on('data', check)
    void exited.then(() => {
      clearTimeout(timer)
      reject(new Error(`social exited before it listened:\n${output}`))
    })
  })
  return {
    origin: `http://127.0.0.1:${port}`,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await exited
    },
  }
}

/** Opens the app in a new page of `context` and logs in as `userId` (a seeded user). */
export async function logIn(context: BrowserContext, origin: string, userId: string): Promise<Page> {
  const page = await context.newPage()
  await page.goto(origin)
  await page.click(`[data-login="${userId}"]`, { timeout: 30_000 })
  await page.waitForSelector(`[data-me="${userId}"]`, { state: 'attached', timeout: 30_000 })
  return page
}

/** Logs in over HTTP; resolves to the session cookie. */
export async function cookieFor(origin: string, name: string): Promise<string> {
  const res = await fetch(`${origin}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  })
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`)
  return (res.headers.get('set-cookie') ?? '').split(';')[0] as string
}

/** Posts as the holder of `cookie`, through the API; resolves to the post's id. */
export async function postAs(origin: string, cookie: string, text: string): Promise<string> {
  const res = await fetch(`${origin}/api/posts`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  })
  if (res.status !== 201) throw new Error(`post failed with ${res.status}`)
  return ((await res.json()) as { post: { id: string } }).post.id
}

/** The texts of the posts in the page's feed, top first. */
export function feedTexts(page: Page): Promise<string[]> {
  return page.$$eval('.posts [data-post] .post-text', (nodes) => nodes.map((n) => n.textContent ?? ''))
}
