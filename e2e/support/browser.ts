/**
 * Real headless Chromium (Debian's `chromium`, driven by playwright-core) for tests that
 * must see what a browser's own networking and EventSource do.
 *
 * A missing binary is a failure with instructions, never a silent skip: CI installs it.
 */
import { existsSync } from 'node:fs'
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from 'playwright-core'

/** Where Chromium lives; `RT_CHROMIUM` overrides the Debian path. */
export const CHROMIUM_PATH = process.env.RT_CHROMIUM ?? '/usr/bin/chromium'

const ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export interface OpenedPage {
  readonly page: Page
  /** Uncaught page errors and console errors, for failure messages and assertions. */
  readonly problems: string[]
  close(): Promise<void>
}

export interface Chromium {
  readonly browser: Browser
  /** Opens `url` in a fresh context (no shared cookies or cache) and waits for `load`. */
  open(url: string, options?: BrowserContextOptions): Promise<OpenedPage>
  /** A fresh context for several pages that share storage, locks and channels (tabs of one browser). */
  context(options?: BrowserContextOptions): Promise<BrowserContext>
  /** Closes every page and context this session opened, then the browser. */
  close(): Promise<void>
}

/**
 * Launches headless Chromium.
 *
 * @example
 * ```ts
 * const chromium = await launchChromium()
 * afterAll(() => chromium.close())
 * const { page } = await chromium.open(`${origin}/`)
 * await page.waitForFunction(() => window.ready === true)
 * ```
 */
export async function launchChromium(): Promise<Chromium> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}. Browser tests need it: install Debian's "chromium" ` +
        'package (apt-get install -y chromium) or point RT_CHROMIUM at a Chromium binary.',
    )
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS, timeout: 30_000 })
  const contexts = new Set<BrowserContext>()
  return {
    browser,
    async context(options) {
      const context = await browser.newContext(options)
      contexts.add(context)
      return context
    },
    async open(url, options) {
      const context = await browser.newContext(options)
      contexts.add(context)
      const page = await context.newPage()
      const problems: string[] = []
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(`console error: ${message.text()}`)
      })
      await page.goto(url, { waitUntil: 'load' })
      return {
        page,
        problems,
        async close() {
          contexts.delete(context)
          await context.close()
        },
      }
    },
    async close() {
      for (const context of contexts) await context.close()
      contexts.clear()
      await browser.close()
    },
  }
}
