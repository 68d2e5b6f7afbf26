/**
 * An example app (`examples/<name>/server/main.ts`) as its own process, so a test can kill
 * it and start it again on the same port, and sign in as its seeded users in Chromium.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'

const root = join(import.meta.dirname, '..', '..')

export interface ExampleProcess {
  readonly origin: string
  readonly port: number
  /** Everything it printed. */
  output(): string
  /** Resolves with the exit code once it exited. */
  readonly exited: Promise<number | null>
  /** SIGTERM, and waits for the process to exit. */
  stop(): Promise<void>
}

export interface ExampleOptions {
  /** A fixed port (the process fails if it is taken); a free one by default. */
  port?: number
  env?: Record<string, string>
}

/**
 * Starts `examples/<name>` and resolves once it printed its URL (`listening`'s first group
 * is the port). `startMs` bounds the start, a first build included.
 */
export async function startExampleProcess(
  name: string,
  options: ExampleOptions & { listening?: RegExp; startMs?: number } = {},
): Promise<ExampleProcess> {
  const { listening = /http:\/\/localhost:(\d+)/, startMs = 90_000 } = options
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@rt/source', `examples/${name}/server/main.ts`],
    {
      cwd: root,
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        HOST: '127.0.0.1',
        PORT: String(options.port ?? 0),
        STRICT_PORT: options.port === undefined ? '0' : '1',
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
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${startMs} ms:\n${output}`)), startMs)
    const check = () => {
      const found = output.match(listening)
      if (found === null) return
      clearTimeout(timer)
      resolve(Number(found[1]))
    }
    child.stdout?.on('data', check)
    void exited.then(() => {
      clearTimeout(timer)
      reject(new Error(`${name} exited before it listened:\n${output}`))
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

/**
 * Opens the app in a new page of `context` and logs in as `userId` (a seeded user) with
 * its `[data-login]` button; resolves once the page shows `[data-me]` (present, not
 * necessarily visible: a phone layout may fold it away).
 */
export async function logIn(context: BrowserContext, origin: string, userId: string): Promise<Page> {
  const page = await context.newPage()
  await page.goto(origin)
  await page.click(`[data-login="${userId}"]`, { timeout: 30_000 })
  await page.waitForSelector(`[data-me="${userId}"]`, { state: 'attached', timeout: 30_000 })
  return page
}
