/**
 * The chat example as its own process (`examples/chat/server/main.ts`), so a test can kill
 * it and start it again on the same port, and sign in as its users in Chromium.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'

const root = join(import.meta.dirname, '..', '..')

export interface ChatProcess {
  readonly origin: string
  readonly port: number
  /** Everything it printed. */
  output(): string
  /** SIGTERM, and waits for the process to exit. */
  stop(): Promise<void>
}

export async function startChatProcess(
  options: { port?: number; env?: Record<string, string> } = {},
): Promise<ChatProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@rt/source', 'examples/chat/server/main.ts'],
    {
      cwd: root,
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        HOST: '127.0.0.1',
        PORT: String(options.port ?? 0),
        STRICT_PORT: options.port === undefined ? '0' : '1',
        CHAT_HEARTBEAT_MS: '1000',
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
    const timer = setTimeout(() => reject(new Error(`chat did not start within 90 s:\n${output}`)), 90_000)
    const check = () => {
      const found = output.match(/http:\/\/localhost:(\d+)/)
      if (found === null) return
      clearTimeout(timer)
      resolve(Number(found[1]))
    }
    child.stdout?.on('data', check)
    void exited.then(() => {
      clearTimeout(timer)
      reject(new Error(`chat exited before it listened:\n${output}`))
    })
  })
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
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
  await page.waitForSelector(`[data-me="${userId}"]`, { timeout: 30_000 })
  return page
}

/** Snapshot requests the chat server answered so far. */
export async function snapshotCounts(
  origin: string,
): Promise<{ groups: number; messages: number; notifications: number }> {
  const res = await fetch(`${origin}/api/stats`)
  return ((await res.json()) as { snapshots: { groups: number; messages: number; notifications: number } }).snapshots
}

/** Sends a message as the user logged in on `page`, through the API (as its UI does). */
export async function sendAs(page: Page, groupId: string, text: string): Promise<void> {
  const status = await page.evaluate(
    async ([group, body]) => {
      const res = await fetch(`/api/groups/${group}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: body }),
      })
      return res.status
    },
    [groupId, text] as const,
  )
  if (status !== 201) throw new Error(`send failed with ${status}`)
}

/** The texts of the open conversation's messages, in order. */
export function messageTexts(page: Page): Promise<string[]> {
  return page.$$eval('[data-open-group] [data-message] .text', (nodes) => nodes.map((n) => n.textContent ?? ''))
}
